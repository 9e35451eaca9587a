package dev.ferry.vm;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * What spec validation needs to know about this host. Injectable so that tests (and a destination
 * that checks a spec before its images exist) decide what "exists" means.
 */
public interface HostFacts {

    boolean exists(Path path);

    boolean isBlockDevice(Path path);

    /** Whether a Linux bridge of that name exists ({@code /sys/class/net/NAME/bridge}). */
    boolean bridgeExists(String bridge);

    int cpuCount();

    /** The facts of the machine this runs on. */
    static HostFacts system() {
        return new HostFacts() {
            @Override
            public boolean exists(Path path) {
                return Files.exists(path);
            }

            @Override
            public boolean isBlockDevice(Path path) {
                try {
                    int mode = (Integer) Files.getAttribute(path, "unix:mode");
                    return (mode & 0170000) == 0060000;
                } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
                    return false;
                }
            }

            @Override
            public boolean bridgeExists(String bridge) {
                return Files.isDirectory(Path.of("/sys/class/net", bridge, "bridge"));
            }

            @Override
            public int cpuCount() {
                return Runtime.getRuntime().availableProcessors();
            }
        };
    }
}
