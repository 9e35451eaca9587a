package dev.ferry.agent.api;

/** {@code POST /v1/restore}: bring back the VM saved in {@code file} (an absolute path) on this host. */
public record RestoreRequest(String file) {}
