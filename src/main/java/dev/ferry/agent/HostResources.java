package dev.ferry.agent;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** The machine's CPUs and memory, read from the kernel; an interface so tests can fake a host. */
public interface HostResources {
    int cpus();

    long memoryTotalMiB();

    /** What the kernel thinks can be allocated without swapping ({@code MemAvailable}). */
    long memoryAvailableMiB();

    /** Reads {@code /proc/meminfo} at each call, since available memory changes all the time. */
    static HostResources ofThisMachine() {
        Path meminfo = Path.of("/proc/meminfo");
        return new HostResources() {
            @Override
            public int cpus() {
                return Runtime.getRuntime().availableProcessors();
            }

            @Override
            public long memoryTotalMiB() {
                return kib(meminfo, "MemTotal:") / 1024;
            }

            @Override
            public long memoryAvailableMiB() {
                return kib(meminfo, "MemAvailable:") / 1024;
            }
        };
    }

    /** A field of a meminfo-style file, in KiB; 0 when the file or the field is missing. */
    static long kib(Path meminfo, String field) {
        try {
            List<String> lines = Files.readAllLines(meminfo);
            for (String line : lines) {
                if (line.startsWith(field)) {
                    return Long.parseLong(line.substring(field.length()).strip().split("\\s+")[0]);
                }
            }
            return 0;
        } catch (IOException | NumberFormatException e) {
            return 0;
        }
    }
}
