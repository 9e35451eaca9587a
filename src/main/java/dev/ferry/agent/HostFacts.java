package dev.ferry.agent;

import dev.ferry.agent.config.AgentConfig;
import dev.ferry.agent.store.VmRecord;
import dev.ferry.vm.VmSpec;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Builds {@link HostInfo}: the versions probed once when the agent starts (they do not change
 * while it runs) and the resources left after what the running VMs ask for.
 */
final class HostFacts {
    private static final Pattern VERSION = Pattern.compile("version\\s+v?(\\d+(?:\\.\\d+)+\\S*?)[,;)]?(?:\\s|$)");

    private final String hostName;
    private final String qemuVersion;
    private final String swtpmVersion;
    private final HostResources resources;

    HostFacts(String hostName, String qemuVersion, String swtpmVersion, HostResources resources) {
        this.hostName = hostName;
        this.qemuVersion = qemuVersion;
        this.swtpmVersion = swtpmVersion;
        this.resources = resources;
    }

    static HostFacts probe(AgentConfig config, VersionProbe probe, HostResources resources) {
        return new HostFacts(config.host(), version(probe, config.qemu()), version(probe, config.swtpm()), resources);
    }

    /** The version number from a {@code --version} line, e.g. {@code 8.2.2} from "QEMU emulator version 8.2.2 (...)". */
    static String version(VersionProbe probe, Path binary) {
        return probe.firstLine(binary).map(HostFacts::versionIn).orElse("unknown");
    }

    static String versionIn(String line) {
        Matcher m = VERSION.matcher(line);
        return m.find() ? m.group(1) : line.strip();
    }

    String qemuVersion() {
        return qemuVersion;
    }

    String swtpmVersion() {
        return swtpmVersion;
    }

    HostInfo describe(List<VmRecord> vms, Function<VmRecord, VmSpec> specOf) {
        long memoryUsed = 0;
        int vcpusUsed = 0;
        int running = 0;
        for (VmRecord vm : vms) {
            if (vm.state().hasProcess()) {
                running++;
                VmSpec spec = specOf.apply(vm);
                if (spec != null) {
                    memoryUsed += SpecFacts.memoryMiB(spec);
                    vcpusUsed += SpecFacts.vcpus(spec);
                }
            }
        }
        int cpus = resources.cpus();
        long total = resources.memoryTotalMiB();
        return new HostInfo(hostName, FerryVersion.get(), qemuVersion, swtpmVersion, cpus,
                Math.max(0, cpus - vcpusUsed), total, resources.memoryAvailableMiB(),
                Math.max(0, total - memoryUsed), vms.size(), running);
    }
}
