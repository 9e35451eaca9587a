package dev.ferry.agent;

import dev.ferry.vm.VmSpec;
import java.util.UUID;

/**
 * What the agent needs from a spec beyond its name. {@link VmSpec} is still growing these
 * accessors ({@code uuid()}, {@code memoryMiB()}, {@code vcpus()}); until it has them the agent
 * gives each VM a fresh UUID and counts it as using no memory and no vCPU. Kept in this one
 * place so switching to the spec's own values is a change here only.
 */
final class SpecFacts {
    private SpecFacts() {}

    static String uuid(VmSpec spec) {
        return UUID.randomUUID().toString();
    }

    static long memoryMiB(VmSpec spec) {
        return 0;
    }

    static int vcpus(VmSpec spec) {
        return 0;
    }
}
