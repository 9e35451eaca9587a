package dev.ferry.migration;

import dev.ferry.device.DeviceEvent;

/** Follows a migration as it runs (progress bars, the event stream). Called from several threads. */
public interface MigrationListener {

    default void phase(String migrationId, Phase phase) {}

    default void ram(String migrationId, RamProgress progress) {}

    default void device(String migrationId, DeviceEvent event) {}

    MigrationListener NONE = new MigrationListener() {};
}
