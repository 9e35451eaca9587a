package dev.ferry.migration;

/**
 * What a source agent tells the destination about a migration it wants to run.
 *
 * @param migrationId the source's id for the migration; the destination keys everything by it
 * @param sourceHost  the source host's name
 * @param spec        the VM's normalized spec (YAML), with the same uuid and device ids
 * @param mode        {@code live}
 */
public record IncomingRequest(String migrationId, String sourceHost, String spec, String mode) {}
