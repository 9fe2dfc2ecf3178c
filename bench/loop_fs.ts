/**
 * A loop-mounted ext4 image for benchmark baselines (and whatever must sit on
 * the same filesystem as them). `losetup --direct-io=on`, so the image's
 * backing file is not cached twice. The root ext4 of these machines has no
 * journal, and creating many files within ~30 s of deleting many there is
 * 5–9x slower; a journaled loop ext4 has no such quirk.
 */

export interface LoopFs {
  /** A temp directory holding the image and the mount point. */
  base: string;
  mnt: string;
  dev: string | null;
  mounted: boolean;
}

async function run(
  cmd: string,
  args: string[],
): Promise<{ code: number; out: string; err: string }> {
  const o = await new Deno.Command(cmd, { args, cwd: "/", stdin: "null" }).output();
  const d = new TextDecoder();
  return { code: o.code, out: d.decode(o.stdout), err: d.decode(o.stderr) };
}

async function ok(cmd: string, args: string[]): Promise<string> {
  const r = await run(cmd, args);
  if (r.code !== 0) {
    throw new Error(`${cmd} ${args.join(" ")} failed (${r.code}): ${r.err}${r.out}`);
  }
  return r.out;
}

/** Makes and mounts the filesystem at `lfs.mnt` (sets `dev` and `mounted` as it goes). */
export async function makeLoopFs(sizeMiB: number, inodes: number, lfs: LoopFs): Promise<void> {
  const img = `${lfs.base}/ext4.img`;
  await Deno.mkdir(lfs.mnt);
  await ok("truncate", ["-s", `${sizeMiB}M`, img]);
  // Inode tables and journal are written now, not by ext4lazyinit during the runs.
  await ok("mkfs.ext4", [
    "-q",
    "-N",
    String(inodes),
    "-E",
    "lazy_itable_init=0,lazy_journal_init=0",
    img,
  ]);
  lfs.dev = (await ok("losetup", ["-f", "--show", "--direct-io=on", img])).trim();
  await ok("mount", [lfs.dev, lfs.mnt]);
  lfs.mounted = true;
}

/** Unmounts (lazily if busy), detaches and deletes it; never throws. */
export async function removeLoopFs(lfs: LoopFs): Promise<void> {
  if (lfs.mounted) {
    const u = await run("umount", [lfs.mnt]);
    if (u.code !== 0) await run("umount", ["-l", lfs.mnt]);
  }
  if (lfs.dev) await run("losetup", ["-d", lfs.dev]);
  await Deno.remove(lfs.base, { recursive: true }).catch(() => {});
}
