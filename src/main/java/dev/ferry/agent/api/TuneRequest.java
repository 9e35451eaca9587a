package dev.ferry.agent.api;

/**
 * {@code POST /v1/migrations/{id}/tune}: a running migration's new RAM bandwidth cap (MiB/s, 0 for
 * none) and QEMU downtime limit (ms); either may be left out.
 */
public record TuneRequest(Long bandwidthMiB, Long downtimeMs) {}
