import type { ComposeProject } from "../../compose/model.ts";
import type { ContainerDetails, DockerApi } from "../../docker/types.ts";
import type { Deps } from "../../deps.ts";
import { projectContainers, resolveProject, type ProjectOptions } from "./project.ts";

/** The project model plus its containers: what backup and restore start from. */
export async function openProject(opts: ProjectOptions, deps: Deps): Promise<{ project: ComposeProject; containers: ContainerDetails[]; docker: DockerApi }> {
  const resolved = await resolveProject(opts, deps);
  const { project } = resolved;
  const docker = await deps.docker();
  const containers = resolved.containers ?? (await projectContainers(project.name, deps));
  return { project, containers, docker };
}
