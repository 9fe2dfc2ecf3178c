/**
 * Filesystems in loop-mounted image files, for tests and benchmarks that
 * need a particular filesystem (btrfs, xfs with reflink=1). Needs root and
 * the mkfs tools; `loopFsUnavailable` says why not when they are missing.
 */

export type LoopFsKind = "btrfs" | "xfs";

const MKFS: Record<LoopFsKind, { cmd: string; args: string[] }> = {
  btrfs: { cmd: "mkfs.btrfs", args: ["-q"] },
  xfs: { cmd: "mkfs.xfs", args: ["-q", "-m", "reflink=1"] },
};

function onPath(cmd: string): boolean {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":").concat(["/usr/sbin", "/sbin"])) {
    try {
      Deno.statSync(`${dir}/${cmd}`);
      return true;
    } catch { /* next */ }
  }
  return false;
}

/** Why loop filesystems of `kind` cannot be made here, or null when they can. */
export function loopFsUnavailable(kind: LoopFsKind): string | null {
  if (Deno.build.os !== "linux") return `loop mounts need Linux (this is ${Deno.build.os})`;
  if (Deno.uid() !== 0) return "loop mounts need root";
  for (const cmd of [MKFS[kind].cmd, "losetup", "mount", "umount"]) {
    if (!onPath(cmd)) return `${cmd} is not installed`;
  }
  return null;
}

/** Runs a command; throws with its stderr on failure; returns stdout. */
export async function sh(cmd: string, ...args: string[]): Promise<string> {
  const o = await new Deno.Command(cmd, { args, stdin: "null", stdout: "piped", stderr: "piped" })
    .output();
  if (!o.success) {
    throw new Error(
      `${cmd} ${args.join(" ")} failed (${o.code}): ${new TextDecoder().decode(o.stderr)}`,
    );
  }
  return new TextDecoder().decode(o.stdout);
}

/**
 * Makes a `sizeMiB` filesystem of `kind` in an image file, mounts it through
 * its own loop device, runs `fn` with the mount point, then unmounts,
 * detaches the loop device and deletes the image — also when `fn` fails.
 */
export async function withLoopFs<T>(
  kind: LoopFsKind,
  fn: (mnt: string) => Promise<T>,
  sizeMiB = 512,
): Promise<T> {
  const base = await Deno.makeTempDir({ prefix: `vibe-${kind}-` });
  const img = `${base}/fs.img`;
  const mnt = `${base}/mnt`;
  let dev: string | null = null;
  let mounted = false;
  try {
    await Deno.mkdir(mnt);
    await sh("truncate", "-s", `${sizeMiB}M`, img);
    await sh(MKFS[kind].cmd, ...MKFS[kind].args, img);
    dev = (await sh("losetup", "-f", "--show", img)).trim();
    await sh("mount", dev, mnt);
    mounted = true;
    return await fn(mnt);
  } finally {
    if (mounted) {
      await sh("umount", mnt).catch(async () => await sh("umount", "-l", mnt).catch(() => {}));
    }
    if (dev) await sh("losetup", "-d", dev).catch(() => {});
    await Deno.remove(base, { recursive: true }).catch(() => {});
  }
}
