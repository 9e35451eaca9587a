package dev.ferry.agent;

import dev.ferry.agent.api.DefineVmRequest;
import dev.ferry.agent.store.VmRecord;
import dev.ferry.vm.PathRefusedException;
import dev.ferry.vm.PathRoots;
import dev.ferry.vm.SpecException;
import dev.ferry.vm.SpecPaths;
import dev.ferry.vm.VmException;
import dev.ferry.vm.VmHandle;
import dev.ferry.vm.VmHost;
import dev.ferry.vm.VmSpec;
import dev.ferry.vm.VmState;
import java.nio.file.Path;
import java.time.Clock;
import java.time.LocalTime;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the agent can be asked to do, whoever asks (the HTTP API now, migrations later). Each
 * lifecycle call takes the VM's lease, checks the transition before touching QEMU, and records
 * the state before it acts where a crash in between would otherwise lose track of a process.
 */
public final class AgentService {
    private static final Logger log = LoggerFactory.getLogger(AgentService.class);
    private static final DateTimeFormatter SINCE = DateTimeFormatter.ofPattern("HH:mm:ss");

    private final VmTable vms;
    private final VmHost vmHost;
    private final JobLeases leases;
    private final SpecReader specs;
    private final Path defaultBaseDir;
    private final Clock clock;
    private final HostFacts hostFacts;
    private final PathRoots roots;

    AgentService(VmTable vms, VmHost vmHost, JobLeases leases, SpecReader specs, Path defaultBaseDir,
                 Clock clock, HostFacts hostFacts, PathRoots roots) {
        this.roots = roots;
        this.vms = vms;
        this.vmHost = vmHost;
        this.leases = leases;
        this.specs = specs;
        this.defaultBaseDir = defaultBaseDir;
        this.clock = clock;
        this.hostFacts = hostFacts;
    }

    public JobLeases leases() {
        return leases;
    }

    public VmInfo define(DefineVmRequest request) {
        if (request.spec() == null || request.spec().isBlank()) {
            throw new AgentException(AgentException.Kind.INVALID, "spec: missing; send {\"spec\": \"<the VM spec as YAML>\"}");
        }
        Path baseDir = baseDir(request.baseDir());
        VmSpec spec = parse(request.spec(), baseDir, "invalid spec");
        confined(spec);
        String name = spec.name();
        try (JobLeases.Lease lease = leases.acquire(name, "define")) {
            if (vms.store().findVm(name).isPresent()) {
                throw new AgentException(AgentException.Kind.CONFLICT,
                        "vm '" + name + "' is already defined; undefine it first or pick another name");
            }
            // The normalized spec, with its generated uuid and MACs, so every start runs the same identity.
            VmRecord vm = new VmRecord(name, SpecFacts.uuid(spec), spec.toYaml(), baseDir.toString(),
                    VmState.DEFINED, clock.instant());
            vms.added(vm);
            log.info("vm '{}' defined", name);
            return info(vm);
        }
    }

    private Path baseDir(String raw) {
        if (raw == null) {
            return defaultBaseDir;
        }
        Path p = Path.of(raw);
        if (!p.isAbsolute()) {
            throw new AgentException(AgentException.Kind.INVALID,
                    "baseDir: '" + raw + "' is not an absolute path; send the spec file's directory as an absolute path");
        }
        return p.normalize();
    }

    private VmSpec parse(String yaml, Path baseDir, String what) {
        try {
            return specs.read(yaml, baseDir);
        } catch (SpecException e) {
            throw new AgentException(AgentException.Kind.INVALID_SPEC, what + ": " + e.getMessage(), e);
        }
    }

    /**
     * The spec with every host path resolved inside this host's roots, which is what QEMU is given;
     * a path outside them is refused (403), a missing one is the spec's mistake (400).
     */
    private VmSpec confined(VmSpec spec) {
        try {
            return SpecPaths.confine(spec, roots);
        } catch (PathRefusedException e) {
            throw new AgentException(e.missing() ? AgentException.Kind.INVALID_SPEC : AgentException.Kind.PATH_NOT_ALLOWED,
                    "vm '" + spec.name() + "': " + e.getMessage(), e);
        }
    }

    public List<VmInfo> list() {
        return vms.store().listVms().stream().map(this::info).toList();
    }

    public VmInfo show(String name) {
        return info(vms.record(name));
    }

    public VmInfo start(String name) {
        try (JobLeases.Lease lease = leases.acquire(name, "start")) {
            VmRecord vm = vms.record(name);
            vm.state().checkTransition(name, VmState.STARTING);
            VmSpec spec = parse(vm.specYaml(), Path.of(vm.baseDir()), "vm '" + name + "': its recorded spec no longer parses");
            // Checked again at every start: the files, their links and the roots may have changed since definition.
            VmSpec runnable = confined(spec);
            if (vm.state() == VmState.CRASHED) {
                cleanUp(name);
            }
            vms.move(name, VmState.STARTING);
            VmHandle handle;
            try {
                handle = vmHost.start(runnable);
            } catch (VmException e) {
                cleanUp(name);
                vms.move(name, VmState.CRASHED);
                throw failed(e);
            }
            vms.attach(handle);
            vms.move(name, runningState(handle));
            log.info("vm '{}' started, pid {}", name, handle.pid());
            return info(vms.record(name));
        }
    }

    private static VmState runningState(VmHandle handle) {
        try {
            VmState s = handle.state();
            return s == VmState.PAUSED ? VmState.PAUSED : VmState.RUNNING;
        } catch (VmException e) {
            // QEMU answered QMP a moment ago; a failed query now does not make it less started.
            return VmState.RUNNING;
        }
    }

    public VmInfo pause(String name) {
        return simple(name, "pause", VmState.PAUSED, VmHandle::pause);
    }

    public VmInfo resume(String name) {
        return simple(name, "resume", VmState.RUNNING, VmHandle::resume);
    }

    private interface HandleCall {
        void call(VmHandle handle) throws VmException;
    }

    private VmInfo simple(String name, String job, VmState to, HandleCall call) {
        try (JobLeases.Lease lease = leases.acquire(name, job)) {
            VmRecord vm = vms.record(name);
            vm.state().checkTransition(name, to);
            try {
                call.call(controlled(name));
            } catch (VmException e) {
                throw failed(e);
            }
            vms.move(name, to);
            log.info("vm '{}' {}", name, to.wireName());
            return info(vms.record(name));
        }
    }

    public VmInfo stop(String name) {
        try (JobLeases.Lease lease = leases.acquire(name, "stop")) {
            vms.record(name).state().checkTransition(name, VmState.STOPPING);
            VmHandle handle = controlled(name);
            vms.move(name, VmState.STOPPING);
            try {
                handle.stop(VmHost.DEFAULT_STOP_GRACE);
            } catch (VmException e) {
                if (handle.isAlive()) {
                    throw failed(e);
                }
            }
            vms.detach(name);
            vms.move(name, VmState.STOPPED);
            log.info("vm '{}' stopped", name);
            return info(vms.record(name));
        }
    }

    /** Ends QEMU at once; on a crashed VM, removes what it left behind. Either way it ends stopped. */
    public VmInfo destroy(String name) {
        try (JobLeases.Lease lease = leases.acquire(name, "destroy")) {
            VmState state = vms.record(name).state();
            state.checkTransition(name, VmState.STOPPED);
            if (state.hasProcess()) {
                VmHandle handle = controlled(name);
                if (state != VmState.STOPPING) {
                    vms.move(name, VmState.STOPPING);
                }
                try {
                    handle.destroy();
                } catch (VmException e) {
                    if (handle.isAlive()) {
                        throw failed(e);
                    }
                }
                vms.detach(name);
            } else {
                cleanUp(name);
            }
            vms.move(name, VmState.STOPPED);
            log.info("vm '{}' destroyed", name);
            return info(vms.record(name));
        }
    }

    public void undefine(String name) {
        try (JobLeases.Lease lease = leases.acquire(name, "undefine")) {
            VmRecord vm = vms.record(name);
            if (vm.state().hasProcess()) {
                throw new AgentException(AgentException.Kind.CONFLICT, "vm '" + name + "' is "
                        + vm.state().wireName() + "; stop or destroy it before undefining it");
            }
            if (vm.state() == VmState.CRASHED) {
                cleanUp(name);
            }
            vms.removed(vm);
            log.info("vm '{}' undefined", name);
        }
    }

    public HostInfo host() {
        return hostFacts.describe(vms.store().listVms(), this::specOf);
    }

    private VmSpec specOf(VmRecord vm) {
        try {
            return specs.read(vm.specYaml(), Path.of(vm.baseDir()));
        } catch (SpecException e) {
            return null;
        }
    }

    /** The handle of a VM whose state says QEMU runs; without one the agent cannot act on it. */
    private VmHandle controlled(String name) {
        return vms.handle(name).orElseThrow(() -> new AgentException(AgentException.Kind.FAILED,
                "vm '" + name + "': the agent has no control of its QEMU process; restart the agent so it reattaches, or destroy the VM"));
    }

    private void cleanUp(String name) {
        try {
            vmHost.cleanUp(name);
        } catch (VmException e) {
            log.warn("vm '{}': cleaning up what it left behind failed: {}", name, e.getMessage());
        }
    }

    private static AgentException failed(VmException e) {
        return new AgentException(AgentException.Kind.FAILED, e.getMessage(), e);
    }

    private VmInfo info(VmRecord vm) {
        VmHandle h = vms.handle(vm.name()).orElse(null);
        String job = leases.holder(vm.name())
                .map(j -> j.description() + " since " + LocalTime.ofInstant(j.since(), clock.getZone())
                        .truncatedTo(ChronoUnit.SECONDS).format(SINCE))
                .orElse(null);
        return new VmInfo(vm.name(), vm.uuid(), vm.state().wireName(),
                h == null ? null : h.pid(), h == null ? null : h.runDir().toString(), job,
                vm.updatedAt(), vm.specYaml());
    }
}
