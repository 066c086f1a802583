// One ES module for componentize-js: app code bundled, the WIT imports left as imports.
export default {
  input: "component.js",
  external: /^(plue|wasi):/,
  output: { file: ".build/bundle.js", format: "esm" },
};
