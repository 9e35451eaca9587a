package dev.ferry.agent.api;

/** {@code POST /v1/vms/{name}/save}: save the VM's state and spec into {@code file} (an absolute path). */
public record SaveRequest(String file) {}
