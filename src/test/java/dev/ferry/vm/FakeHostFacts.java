package dev.ferry.vm;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;

/** Real files, but bridges, block devices and the CPU count are whatever the test says. */
final class FakeHostFacts implements HostFacts {
    final Set<String> bridges = new HashSet<>();
    final Set<Path> blockDevices = new HashSet<>();
    int cpus = 8;

    @Override
    public boolean exists(Path path) {
        return Files.exists(path);
    }

    @Override
    public boolean isBlockDevice(Path path) {
        return blockDevices.contains(path);
    }

    @Override
    public boolean bridgeExists(String bridge) {
        return bridges.contains(bridge);
    }

    @Override
    public int cpuCount() {
        return cpus;
    }
}
