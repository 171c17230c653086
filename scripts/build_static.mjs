// Copies the pinned front-end packages from node_modules into the Django static tree.
// No bundler: each package already ships a minified browser build.
import { copyFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const out = join(root, "src/vetvol/static/vendor");
mkdirSync(out, { recursive: true });
const files = {
  "htmx.org/dist/htmx.min.js": "htmx.min.js",
  // The CSP build of Alpine evaluates no strings as code, so the pages keep script-src 'self'.
  "@alpinejs/csp/dist/cdn.min.js": "alpine.min.js",
  // QR decoding for the organiser's camera scan where the browser has no BarcodeDetector (loaded on demand).
  "jsqr/dist/jsQR.js": "jsQR.js",
  // Charts and the region map of the statistics dashboard (the full build: the common one has no map series).
  "echarts/dist/echarts.min.js": "echarts.min.js",
};
for (const [from, to] of Object.entries(files)) {
  copyFileSync(join(root, "node_modules", from), join(out, to));
  console.log(`static: ${from} -> src/vetvol/static/vendor/${to}`);
}
