// The script-tag build: the module's API as `window.PlueTelemetry`.

import { TimeoutError, flush, initTelemetry, logError, withTimeout } from './telemetry';

(globalThis as Record<string, unknown>).PlueTelemetry = { initTelemetry, logError, withTimeout, flush, TimeoutError };
