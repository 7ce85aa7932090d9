// The import layers of DESIGN.md "Conventions": cli → ops → plan / reconcile → sources → store →
// config → the base modules at the top of src/ (errors, paths, secrets, version, text). A module may
// import its own layer and those below it, never above. Views render data: they import types only (from
// anywhere; values only from src/text.ts, the wording the core's messages share) and are imported only
// by cli. The emulator imports nothing of the tool.
// test/unit/layers.test.ts checks that each rule rejects a wrong import.

const layer = (name) => `^src/${name}(/|\\.ts$)`;
const above = {
  base: ['config', 'store', 'sources', 'reconcile', 'plan', 'ops', 'cli', 'views', 'emulator'],
  config: ['store', 'sources', 'reconcile', 'plan', 'ops', 'cli', 'views', 'emulator'],
  store: ['sources', 'reconcile', 'plan', 'ops', 'cli', 'views', 'emulator'],
  sources: ['reconcile', 'plan', 'ops', 'cli', 'views', 'emulator'],
  reconcile: ['plan', 'ops', 'cli', 'views', 'emulator'],
  plan: ['ops', 'cli', 'views', 'emulator'],
  ops: ['cli', 'views'],
};
const from = { base: '^src/[^/]+\\.ts$' };
const anyOf = (names) => `^src/(${names.join('|')})(/|\\.ts$)`;

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'A cycle makes two modules one: neither can be understood, tested or moved alone.',
      from: { path: '^src/' },
      to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only'] } },
    },
    ...Object.entries(above).map(([name, banned]) => ({
      name: `layer-${name}`,
      severity: 'error',
      comment: `${name} sits below ${banned.join(', ')}: imports flow one way (DESIGN.md "Conventions").`,
      from: { path: from[name] ?? layer(name) },
      to: { path: anyOf(banned) },
    })),
    {
      name: 'views-import-types-only',
      severity: 'error',
      comment: 'Views render data they are given: they may name its types, never call into the core (src/text.ts words both).',
      from: { path: layer('views') },
      to: { path: '^src/', pathNot: [layer('views'), '^src/text\\.ts$'], dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'emulator-self-contained',
      severity: 'error',
      comment: 'The emulator stands in for Shopify: it shares no code with the tool it tests.',
      from: { path: layer('emulator') },
      to: { path: '^src/', pathNot: layer('emulator') },
    },
    {
      name: 'src-not-to-tests',
      severity: 'error',
      comment: 'Shipped code never depends on tests, benchmarks or scripts.',
      from: { path: '^src/' },
      to: { path: '^(test|bench|scripts)/' },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment: 'An import that does not resolve fails at run time.',
      from: { path: '^src/' },
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    includeOnly: '^src/',
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'], extensions: ['.ts', '.js'] },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
