package dev.ferry.agent;

import java.time.Instant;

/**
 * A VM changed state on this host. {@code from} is null when the VM was just defined, {@code to}
 * is null when it was undefined; otherwise both are wire names such as {@code running}.
 */
public record VmEvent(String vm, String from, String to, Instant at) {}
