package dev.ferry.migration;

import dev.ferry.device.DiskImage;
import java.util.Map;

/**
 * What a source agent tells the destination about a migration it wants to run.
 *
 * @param migrationId the source's id for the migration; the destination keys everything by it
 * @param sourceHost  the source host's name
 * @param spec        the VM's normalized spec (YAML), with the same uuid and device ids
 * @param mode        {@code live}
 * @param localDisks  the images of the disks to copy (not shared), by device id, as the source sees them
 */
public record IncomingRequest(String migrationId, String sourceHost, String spec, String mode,
                              Map<String, DiskImage> localDisks) {

    public IncomingRequest {
        localDisks = localDisks == null ? Map.of() : Map.copyOf(localDisks);
    }

    public IncomingRequest(String migrationId, String sourceHost, String spec, String mode) {
        this(migrationId, sourceHost, spec, mode, Map.of());
    }
}
