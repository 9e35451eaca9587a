package dev.ferry.agent;

import dev.ferry.vm.VmSpec;

/** What the agent needs from a spec beyond its name, in one place. */
final class SpecFacts {
    private SpecFacts() {}

    static String uuid(VmSpec spec) {
        return spec.uuid().toString();
    }

    static long memoryMiB(VmSpec spec) {
        return spec.memoryMiB();
    }

    static int vcpus(VmSpec spec) {
        return spec.vcpus();
    }
}
