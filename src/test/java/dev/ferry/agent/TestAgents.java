package dev.ferry.agent;

import dev.ferry.agent.config.AgentConfig;
import dev.ferry.vm.Accelerator;
import dev.ferry.vm.PathRoots;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Builds in-process agents on a free port in a given data directory, with a fake VM host. */
public final class TestAgents {
    private TestAgents() {}

    /** An agent whose VMs and saves may use the test's directory, the data directory's parent. */
    public static AgentConfig config(Path dataDir, String host) {
        List<Path> testDir = List.of(dataDir.toAbsolutePath().getParent());
        return new AgentConfig(host, "127.0.0.1", 0, dataDir, Path.of("/usr/bin/qemu-system-x86_64"),
                Path.of("/usr/bin/swtpm"), Map.of(), Map.of(), Accelerator.AUTO,
                PathRoots.of(dataDir.toAbsolutePath(), testDir, List.of(), testDir, List.of()));
    }

    /** An agent whose VMs and saves may use only {@code roots}. */
    public static AgentConfig config(Path dataDir, String host, PathRoots roots) {
        AgentConfig c = config(dataDir, host);
        return new AgentConfig(c.host(), c.listen(), c.port(), c.dataDir(), c.qemu(), c.swtpm(), c.tools(), c.peers(),
                c.accel(), roots);
    }

    public static Agent.Parts parts(FakeVmHost host, Clock clock) {
        return parts(host, clock, new FakeSpecs());
    }

    public static Agent.Parts parts(FakeVmHost host, Clock clock, SpecReader specs) {
        VersionProbe probe = binary -> Optional.of(binary.getFileName().toString().startsWith("qemu")
                ? "QEMU emulator version 8.2.2 (Debian 1:8.2.2+ds-0ubuntu1)"
                : "TPM emulator version 0.7.3, Copyright (c) 2014-2021 IBM Corp.");
        HostResources resources = new HostResources() {
            @Override
            public int cpus() {
                return 8;
            }

            @Override
            public long memoryTotalMiB() {
                return 16384;
            }

            @Override
            public long memoryAvailableMiB() {
                return 12000;
            }
        };
        return new Agent.Parts(host, probe, specs, resources, clock);
    }
}
