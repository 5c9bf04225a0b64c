// Vite builds the console into dist/, which the server embeds (crates/server/build.rs).
// JSX is compiled by esbuild itself (no React plugin: one dependency fewer, and no fast refresh
// needed for a small console).
import { defineConfig } from 'vitest/config';

export default defineConfig({
  esbuild: { jsx: 'automatic' },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // No inline <script> or modulepreload polyfill: the server's CSP forbids inline scripts.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    sourcemap: false,
  },
  server: {
    // `npm run dev` talks to a local `sentinel serve`.
    proxy: { '/v1': 'http://127.0.0.1:8787' },
  },
  test: {
    environment: 'happy-dom',
    include: ['src/**/*.test.{ts,tsx}'],
  },
});
