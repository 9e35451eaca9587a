package dev.ferry.agent;

import java.time.Instant;

/**
 * A VM as the API shows it.
 *
 * @param pid     QEMU's process id while the agent controls a running QEMU, else null
 * @param runDir  the VM's run directory while it runs, else null
 * @param job     the job holding the VM's lease, e.g. {@code stop since 12:00:01}, else null
 * @param spec    the spec as defined (YAML)
 */
public record VmInfo(String name, String uuid, String state, Long pid, String runDir, String job,
                     Instant updatedAt, String spec) {}
