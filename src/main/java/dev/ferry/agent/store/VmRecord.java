package dev.ferry.agent.store;

import dev.ferry.vm.VmState;
import java.time.Instant;
import java.util.Objects;

/**
 * A VM as the state store keeps it: what is needed to parse its spec again after a restart and
 * the last state the agent recorded.
 *
 * @param baseDir the directory relative paths in {@code specYaml} resolve against
 */
public record VmRecord(String name, String uuid, String specYaml, String baseDir, VmState state, Instant updatedAt) {
    public VmRecord {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(uuid, "uuid");
        Objects.requireNonNull(specYaml, "specYaml");
        Objects.requireNonNull(baseDir, "baseDir");
        Objects.requireNonNull(state, "state");
        Objects.requireNonNull(updatedAt, "updatedAt");
    }

    public VmRecord withState(VmState next, Instant at) {
        return new VmRecord(name, uuid, specYaml, baseDir, next, at);
    }
}
