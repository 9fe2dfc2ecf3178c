/** The shared Vfs contract suite against the workspace Vfs on a real git repo. */
import { runVfsContract } from "./vfs_contract.ts";
import { makeRepo, SAMPLE_FILES } from "./helpers/repo.ts";
import { initProject } from "../src/project/init.ts";
import { Project } from "../src/project/project.ts";
import { spawnVibe } from "../src/project/lifecycle.ts";

runVfsContract("workspace", async () => {
  const dir = await makeRepo(SAMPLE_FILES);
  await initProject(dir);
  const project = await Project.open(dir);
  await spawnVibe(project, "contract");
  const vfs = project.workspace("contract");
  return {
    vfs,
    close: async () => {
      project.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
});
