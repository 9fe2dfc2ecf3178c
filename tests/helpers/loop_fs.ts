/**
 * Filesystems in loop-mounted image files, for tests and benchmarks that
 * need a particular filesystem (btrfs, xfs with reflink=1, or a journaled
 * ext4 as a benchmark baseline: the root ext4 of these machines has no
 * journal, and creating many files within ~30 s of deleting many there is
 * 5–9x slower). Needs root and the mkfs tools; `loopFsUnavailable` says why
 * not when they are missing.
 */

export type LoopFsKind = "btrfs" | "xfs" | "ext4";

const MKFS: Record<LoopFsKind, { cmd: string; args: string[] }> = {
  btrfs: { cmd: "mkfs.btrfs", args: ["-q"] },
  xfs: { cmd: "mkfs.xfs", args: ["-q", "-m", "reflink=1"] },
  // Inode tables and journal are written now, not by ext4lazyinit during a measurement.
  ext4: { cmd: "mkfs.ext4", args: ["-q", "-E", "lazy_itable_init=0,lazy_journal_init=0"] },
};

export interface LoopFsOptions {
  /** Image size (default 512 MiB). */
  sizeMiB?: number;
  /** ext4 only: inodes to make (`mkfs.ext4 -N`), for file-heavy benchmarks. */
  inodes?: number;
  /** `losetup --direct-io=on`: the image's backing file is not cached twice (benchmarks). */
  directIo?: boolean;
}

/** A mounted loop filesystem; `remove` unmounts it, detaches the device, deletes the image. */
export interface LoopMount {
  mnt: string;
  remove(): Promise<void>;
}

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
 * Makes a filesystem of `kind` in an image file and mounts it through its
 * own loop device. On failure everything made so far is removed again.
 */
export async function mountLoopFs(kind: LoopFsKind, opts: LoopFsOptions = {}): Promise<LoopMount> {
  const base = await Deno.makeTempDir({ prefix: `vibe-${kind}-` });
  const img = `${base}/fs.img`;
  const mnt = `${base}/mnt`;
  let dev: string | null = null;
  let mounted = false;
  const remove = async () => {
    if (mounted) {
      await sh("umount", mnt).catch(async () => await sh("umount", "-l", mnt).catch(() => {}));
      mounted = false;
    }
    if (dev) await sh("losetup", "-d", dev).catch(() => {});
    dev = null;
    await Deno.remove(base, { recursive: true }).catch(() => {});
  };
  try {
    await Deno.mkdir(mnt);
    await sh("truncate", "-s", `${opts.sizeMiB ?? 512}M`, img);
    const inodes = kind === "ext4" && opts.inodes ? ["-N", String(opts.inodes)] : [];
    await sh(MKFS[kind].cmd, ...MKFS[kind].args, ...inodes, img);
    const direct = opts.directIo ? ["--direct-io=on"] : [];
    dev = (await sh("losetup", "-f", "--show", ...direct, img)).trim();
    await sh("mount", dev, mnt);
    mounted = true;
    return { mnt, remove };
  } catch (e) {
    await remove();
    throw e;
  }
}

/**
 * Makes a `sizeMiB` filesystem of `kind`, runs `fn` with the mount point,
 * then unmounts, detaches the loop device and deletes the image — also when
 * `fn` fails.
 */
export async function withLoopFs<T>(
  kind: LoopFsKind,
  fn: (mnt: string) => Promise<T>,
  sizeMiB = 512,
): Promise<T> {
  const m = await mountLoopFs(kind, { sizeMiB });
  try {
    return await fn(m.mnt);
  } finally {
    await m.remove();
  }
}
