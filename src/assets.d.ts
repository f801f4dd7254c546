// Files that the bundler (scripts/build.mjs) and the jest asset transform turn into modules.
declare module '*.wasm' {
  const bytes: Uint8Array;
  export default bytes;
}
declare module '*.proto' {
  const source: string;
  export default source;
}
declare module '*.txt' {
  const text: string;
  export default text;
}
