package dev.ferry.conformance;

import dev.ferry.device.DeviceRef;
import dev.ferry.migration.Destination;
import dev.ferry.migration.MigrationException;
import dev.ferry.migration.MigrationReport.Blocker;
import dev.ferry.migration.PeerProtocol.Prepared;
import dev.ferry.migration.PeerProtocol.Switchover;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The destination host of a live check. It accepts everything; for a disk it prepares, as a real
 * destination does, an empty file in the scratch directory that the tool is to fill in place, and
 * removes it again when the migration is aborted.
 */
final class StagedDestination implements Destination {
    private final DeviceRef device;
    private final Path endpoint;

    StagedDestination(DeviceRef device, Path destinationDir) {
        this.device = device;
        this.endpoint = device.type().equals("disk") ? destinationDir.resolve(device.id() + ".img") : null;
    }

    @Override
    public List<Blocker> check() {
        return List.of();
    }

    @Override
    public Prepared prepare() throws MigrationException {
        if (endpoint == null) {
            return new Prepared("defer:", Map.of());
        }
        try {
            Files.deleteIfExists(endpoint);
            Files.createFile(endpoint);
        } catch (IOException e) {
            throw new MigrationException("cannot create " + endpoint + " for the tool to fill: " + e.getMessage(), e);
        }
        return new Prepared("defer:", Map.of(device.id(), endpoint.toString()));
    }

    @Override
    public Switchover switchover() {
        return new Switchover(true, List.of());
    }

    @Override
    public void abort() throws MigrationException {
        if (endpoint == null) {
            return;
        }
        try {
            Files.deleteIfExists(endpoint);
        } catch (IOException e) {
            throw new MigrationException("cannot remove " + endpoint + ": " + e.getMessage(), e);
        }
    }
}
