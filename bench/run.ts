/**
 * `deno task bench`: every benchmark, each beside its baseline measured in
 * the same run. Prints tables and writes the figures as JSON to
 * bench/results/latest.json (not committed).
 *
 *   deno task bench [--quick]     (--quick: 10k-file repos instead of 100k, and the
 *                                 FUSE benchmark's smaller sizes)
 */
import { formatObjectReadBench, runObjectReadBench } from "./object_read_bench.ts";
import { formatLifecycle, runLifecycleBench } from "./lifecycle_bench.ts";
import { formatFuseBench, fuseBenchUnavailable, runFuseBench } from "./fuse_bench.ts";
import { formatLayersBench, runLayersBench } from "./layers_bench.ts";
import { formatDashBench, runDashBench } from "./dash_bench.ts";

const quick = Deno.args.includes("--quick");
const files = quick ? 10_000 : 100_000;
const results: Record<string, unknown> = { date: new Date().toISOString(), files };

console.log(`# vibe benchmarks (${files} files; ratios against baselines in the same run)\n`);

const reads = await runObjectReadBench({ files, repeats: quick ? 1 : 3 });
results["objectRead"] = reads;
console.log(formatObjectReadBench(reads));
console.log();

const life = await runLifecycleBench({ large: files, small: 1000 });
results["lifecycle"] = life;
console.log(formatLifecycle(life));
console.log();

const fuseSkip = fuseBenchUnavailable();
if (fuseSkip) {
  results["fuse"] = { skipped: fuseSkip };
  console.log(`FUSE mounts: skipped (${fuseSkip})`);
} else {
  const fuse = await runFuseBench({ files, quick });
  results["fuse"] = fuse;
  console.log(formatFuseBench(fuse));
}

console.log();
const dash = await runDashBench({ quick });
results["dash"] = dash;
console.log(formatDashBench(dash));

console.log();
if (fuseSkip) {
  results["layers"] = { skipped: fuseSkip };
  console.log(`Untracked layers: skipped (${fuseSkip})`);
} else {
  const layers = await runLayersBench(
    quick ? { files: 5_000, bytes: 50 << 20 } : { files: 50_000, bytes: 500 << 20 },
  );
  results["layers"] = layers;
  console.log(formatLayersBench(layers));
}

const out = new URL("./results/", import.meta.url).pathname;
await Deno.mkdir(out, { recursive: true });
await Deno.writeTextFile(`${out}latest.json`, JSON.stringify(results, null, 2));
console.log(`\nfigures: ${out}latest.json`);
