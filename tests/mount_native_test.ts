/**
 * The mount-level suite against a plain native directory: the control that
 * proves the suite itself. Every behaviour must pass here.
 *
 * The directory is made under env VIBE_NATIVE_DIR when set, else /dev/shm
 * (tmpfs) when it exists, else the system temp dir.
 */
import { registerMountSuite } from "./mount_suite.ts";

async function baseDir(): Promise<string | undefined> {
  const env = Deno.env.get("VIBE_NATIVE_DIR");
  if (env !== undefined && env !== "") return env;
  try {
    if ((await Deno.stat("/dev/shm")).isDirectory) return "/dev/shm";
  } catch {
    // no /dev/shm: the system temp dir
  }
  return undefined;
}

registerMountSuite("native", async () => {
  const base = await baseDir();
  const dir = await Deno.makeTempDir({
    prefix: "vibe_mount_native_",
    ...(base === undefined ? {} : { dir: base }),
  });
  return { dir, cleanup: () => Deno.remove(dir, { recursive: true }) };
});
