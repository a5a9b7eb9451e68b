import v8 from 'node:v8';

/**
 * Keeps V8 to its baseline WebAssembly compiler (Liftoff) in this process. PGlite's Postgres is
 * 9 MB of WebAssembly; V8's optimizing compiler recompiles its hot functions on background
 * threads, whose malloc arenas keep 60 to 90 MB resident once done, while the small queries this
 * app sends run about as fast on Liftoff's code (bench/results.md, benchmark 7). Called before
 * PGlite compiles its module, and only for PGlite; it changes how WebAssembly is compiled, nothing
 * else.
 */
export function useBaselineWasmCompiler(): void {
  v8.setFlagsFromString('--liftoff-only');
}
