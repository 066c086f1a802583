import { startServer } from './site/server';

// Starts the static site before any worker and hands its address to the
// workers through the environment; the returned function is the teardown.
export default async function globalSetup() {
  const server = await startServer();
  process.env.PLUE_BASE_URL = server.url;
  return async () => {
    await server.close();
  };
}
