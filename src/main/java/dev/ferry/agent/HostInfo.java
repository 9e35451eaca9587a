package dev.ferry.agent;

/**
 * What a host offers, as {@code GET /v1/host} shows it. Free memory and vCPUs are what is left
 * after what the running VMs' specs ask for, so a migration can check capacity before it starts.
 */
public record HostInfo(String name, String ferryVersion, String qemuVersion, String swtpmVersion,
                       int cpus, int vcpusFree, long memoryTotalMiB, long memoryAvailableMiB,
                       long memoryFreeMiB, int vms, int runningVms) {}
