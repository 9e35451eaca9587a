/**
 * VMs on one host: their definition, how QEMU is started for them, and control of running ones.
 *
 * <p>Data flows one way. YAML goes through {@link dev.ferry.vm.VmSpecParser} (read into a tree,
 * walked key by key by {@code SpecNode} and {@code DeviceParser}, checked against the host through
 * {@link dev.ferry.vm.HostFacts}) and comes out as an immutable {@link dev.ferry.vm.VmSpec} with
 * typed {@link dev.ferry.vm.DeviceSpec}s, defaults and generated identity filled in;
 * {@link dev.ferry.vm.VmSpec#toYaml()} stores it back. {@link dev.ferry.vm.QemuHost} turns a spec
 * into processes: {@code Swtpm} for a TPM, then QEMU with the argv from {@code QemuCommandLine},
 * daemonized so the VM outlives the agent, then a QMP connection. The resulting
 * {@link dev.ferry.vm.VmHandle} ({@code QemuVm}) drives QEMU over QMP and notices when it dies.
 *
 * <p>Host paths are confined: {@link dev.ferry.vm.PathRoots} holds the directories whose files VMs
 * and save files may use and judges a path by what it resolves to; {@link dev.ferry.vm.SpecPaths}
 * applies it to every path of a spec (a qcow2 disk's backing files too, read by {@code Qcow2Header})
 * and returns the spec with resolved paths, which is the one handed to {@code QemuHost}, so that what
 * QEMU opens is what was checked. Callers (the agent, migrations) confine before every start.
 *
 * <p>{@link dev.ferry.vm.QemuTls} gives a running QEMU the TLS objects its streams use (a client's
 * credentials on the source; server credentials and the one client subject it admits on the
 * destination), from the host's certificate directory; migrations and disk copies name them.
 *
 * <p>Each VM's {@link dev.ferry.vm.RunDir} holds its pidfiles, sockets, serial log and swtpm
 * state; a pid read from a pidfile is trusted only if that process's argv names the same pidfile.
 * {@link dev.ferry.vm.VmState} is the lifecycle table that callers (the agent, migrations) follow.
 */
package dev.ferry.vm;
