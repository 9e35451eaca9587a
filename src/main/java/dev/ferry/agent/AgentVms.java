package dev.ferry.agent;

import dev.ferry.agent.store.VmRecord;
import dev.ferry.migration.HostVms;
import dev.ferry.vm.SpecException;
import dev.ferry.vm.VmHandle;
import dev.ferry.vm.VmSpec;
import dev.ferry.vm.VmState;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** The agent's VM table and job leases, as the migrations of this host see them (the {@link HostVms} port). */
final class AgentVms implements HostVms {
    private final VmTable vms;
    private final JobLeases leases;
    private final SpecReader specs;
    private final HostResources resources;

    AgentVms(VmTable vms, JobLeases leases, SpecReader specs, HostResources resources) {
        this.vms = vms;
        this.leases = leases;
        this.specs = specs;
        this.resources = resources;
    }

    @Override
    public Lease lease(String vm, String job) {
        return leases.acquire(vm, job);
    }

    @Override
    public boolean defined(String vm) {
        return vms.store().findVm(vm).isPresent();
    }

    @Override
    public VmSpec spec(String vm) {
        VmRecord record = vms.record(vm);
        try {
            return specs.read(record.specYaml(), Path.of(record.baseDir()));
        } catch (SpecException e) {
            throw new AgentException(AgentException.Kind.INVALID_SPEC, "vm '" + vm
                    + "': its recorded spec no longer parses: " + e.getMessage(), e);
        }
    }

    @Override
    public VmState state(String vm) {
        return vms.record(vm).state();
    }

    @Override
    public Optional<VmHandle> handle(String vm) {
        return vms.handle(vm);
    }

    @Override
    public void move(String vm, VmState to) {
        vms.move(vm, to);
    }

    @Override
    public void add(VmSpec spec, VmState state) {
        vms.added(new VmRecord(spec.name(), spec.uuid().toString(), spec.toYaml(), "/", state, vms.now()));
    }

    @Override
    public void attach(VmHandle handle) {
        vms.attach(handle);
    }

    @Override
    public void forget(String vm) {
        vms.detach(vm);
        vms.store().findVm(vm).ifPresent(vms::removed);
    }

    @Override
    public void detach(String vm) {
        vms.detach(vm);
    }

    @Override
    public List<String> admissionBlockers(VmSpec spec) {
        List<String> blockers = new ArrayList<>();
        if (defined(spec.name())) {
            blockers.add("a VM named '" + spec.name() + "' is already defined on this host; undefine it here first");
        }
        long free = resources.memoryAvailableMiB();
        if (free < spec.memoryMiB()) {
            blockers.add("this host has " + free + " MiB of memory available and the VM needs " + spec.memoryMiB()
                    + " MiB");
        }
        return blockers;
    }
}
