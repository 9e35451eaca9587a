package dev.ferry.lab;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.guest.GuestConsole;
import dev.ferry.proc.Processes;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/**
 * The design's invariants, checked after every cell: one running copy of the guest (one agent
 * lists it running, one QEMU for it on either host), the guest ticking there with the PCRs it
 * booted with, nothing of it left on the other host (a VM record, run directory, copy of a local
 * disk, QEMU, swtpm, an open TCP port such as an NBD export), and the migration in a final state on
 * both hosts. Each broken invariant is one line of the verdict. The fault matrix checks them after
 * every cell and the crash harness after every run.
 */
public final class Invariants {
    /** The results a migration ends with; any other phase means it has not ended. */
    public static final Set<String> FINAL = Set.of("completed", "rolled-back", "failed", "refused");

    private static final Duration TICKS = Duration.ofSeconds(10);
    private static final Duration PCRS = Duration.ofSeconds(6);

    private final Lab lab;
    private final MatrixGuest guest;

    public Invariants(Lab lab, MatrixGuest guest) {
        this.lab = lab;
        this.guest = guest;
    }

    /** Every broken invariant after migration {@code migrationId} from {@code from} to {@code to}; empty when all hold. */
    public List<String> check(String from, String to, String migrationId) throws Exception {
        List<String> broken = new ArrayList<>();
        String owner = oneRunningCopy(broken);
        if (owner != null) {
            guest.owner(owner);
            guestIsWell(owner, broken);
            leftNothing(lab.other(owner), broken);
        }
        noOpenPorts(broken);
        journalsFinal(from, to, migrationId, broken);
        guest.harvestWrites();
        return broken;
    }

    /** Returns the host that runs the guest, or null (and says why) when that is not exactly one. */
    private String oneRunningCopy(List<String> broken) {
        String onA = lab.api(Lab.A).vmState(MatrixGuest.VM);
        String onB = lab.api(Lab.B).vmState(MatrixGuest.VM);
        List<Long> qa = lab.qemusOf(Lab.A);
        List<Long> qb = lab.qemusOf(Lab.B);
        String states = "host-a lists it " + onA + " with " + qa.size() + " QEMU, host-b " + onB + " with " + qb.size() + " QEMU";
        boolean runsOnA = onA.equals("running");
        boolean runsOnB = onB.equals("running");
        if (runsOnA == runsOnB) {
            broken.add((runsOnA ? "two running copies: " : "no running copy: ") + states);
            return null;
        }
        String owner = runsOnA ? Lab.A : Lab.B;
        if (qa.size() + qb.size() != 1 || lab.qemusOf(owner).size() != 1) {
            broken.add("not exactly one QEMU, on " + owner + " (" + states + ")");
        }
        return owner;
    }

    private void guestIsWell(String owner, List<String> broken) throws Exception {
        Path log = lab.api(owner).serialLog(MatrixGuest.VM);
        long tick = GuestConsole.read(log).lastTick();
        GuestConsole later = GuestConsole.await(log, c -> c.lastTick() >= tick + 5, TICKS);
        if (later.lastTick() < tick + 5) {
            broken.add("the guest on " + owner + " does not tick (tick " + later.lastTick() + " for " + TICKS.toSeconds() + " s)");
        }
        GuestConsole withPcrs = GuestConsole.await(log, c -> c.pcrs().size() == 8, PCRS);
        if (!withPcrs.pcrs().equals(guest.pcrsAtBoot())) {
            broken.add("PCRs on " + owner + " differ from boot: " + withPcrs.pcrs().keySet() + " printed, "
                    + differing(withPcrs.pcrs()) + " differ");
        }
        guest.sawWrites(withPcrs);
    }

    private List<Integer> differing(Map<Integer, String> now) {
        return guest.pcrsAtBoot().keySet().stream().filter(i -> !guest.pcrsAtBoot().get(i).equals(now.get(i))).toList();
    }

    private void leftNothing(String host, List<String> broken) throws IOException {
        String state = lab.api(host).vmState(MatrixGuest.VM);
        if (!state.equals("absent") && !state.equals("unreachable")) {
            broken.add(host + " (without the VM) still lists it " + state);
        }
        Path data = lab.agent(host).dataDir();
        List<String> runDirs = entries(data.resolve("run"));
        if (!runDirs.isEmpty()) {
            broken.add(host + " (without the VM) keeps run directories " + runDirs);
        }
        // Where a destination puts the copies of local disks, <dataDir>/images/<vm>/.
        List<String> images = entries(data.resolve("images"));
        if (!images.isEmpty()) {
            broken.add(host + " (without the VM) keeps image directories " + images);
        }
        List<String> kept = lab.processesIn(lab.agent(host).dataDir()).stream().map(Invariants::program).toList();
        if (!kept.isEmpty()) {
            broken.add(host + " (without the VM) keeps processes " + kept);
        }
    }

    private static List<String> entries(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> left = Files.list(dir)) {
            return left.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    /** An NBD export or a migration listener left open shows as a TCP port of a process the agents started. */
    private void noOpenPorts(List<String> broken) throws IOException {
        Map<String, Integer> listening = listeningSocketInodes();
        for (long pid : lab.processesIn(lab.root())) {
            Path fds = Path.of("/proc", Long.toString(pid), "fd");
            List<Path> links;
            try (Stream<Path> s = Files.list(fds)) {
                links = s.toList();
            } catch (IOException e) {
                continue;
            }
            for (Path fd : links) {
                String target;
                try {
                    target = Files.readSymbolicLink(fd).toString();
                } catch (IOException e) {
                    continue;
                }
                if (target.startsWith("socket:[")) {
                    Integer port = listening.get(target.substring(8, target.length() - 1));
                    if (port != null) {
                        broken.add(program(pid) + " listens on TCP port " + port);
                    }
                }
            }
        }
    }

    /** {@code name (pid N)}, for a verdict that stays readable in a table cell. */
    private static String program(long pid) {
        String argv0 = Processes.arguments(pid).map(a -> a.get(0)).orElse("?");
        return argv0.substring(argv0.lastIndexOf('/') + 1) + " (pid " + pid + ")";
    }

    private static Map<String, Integer> listeningSocketInodes() throws IOException {
        Map<String, Integer> out = new HashMap<>();
        for (String table : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
            Path p = Path.of(table);
            if (!Files.exists(p)) {
                continue;
            }
            // Read once: the table changes between two reads on a busy host.
            List<String> lines = Files.readAllLines(p);
            for (String line : lines.subList(Math.min(1, lines.size()), lines.size())) {
                String[] f = line.trim().split("\\s+");
                if (f.length > 9 && f[3].equals("0A")) {
                    String local = f[1];
                    out.put(f[9], Integer.parseInt(local.substring(local.lastIndexOf(':') + 1), 16));
                }
            }
        }
        return out;
    }

    private void journalsFinal(String from, String to, String id, List<String> broken) throws Exception {
        for (String host : List.of(from, to)) {
            Api.Reply r;
            try {
                r = lab.api(host).get("/v1/migrations/" + id);
            } catch (IOException e) {
                broken.add(host + " does not answer: " + e.getMessage());
                continue;
            }
            if (r.status() == 404 && host.equals(to)) {
                continue;
            }
            JsonNode s = r.body();
            String phase = s.path("phase").asText("?");
            if (r.status() != 200 || s.path("running").asBoolean(false) || !FINAL.contains(phase)) {
                broken.add("migration " + id + " on " + host + (host.equals(from) ? " (source)" : " (destination)")
                        + " is not final: " + (r.status() == 200 ? phase + (s.path("running").asBoolean() ? ", running" : "")
                        : "HTTP " + r.status()));
            }
        }
    }
}
