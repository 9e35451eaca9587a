package dev.ferry.fault;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import dev.ferry.guest.DiskReport;
import dev.ferry.guest.DiskVerifier;
import dev.ferry.lab.Lab;
import dev.ferry.lab.MatrixGuest;
import dev.ferry.lab.SmallDisk;
import dev.ferry.proc.ProcessRunner;
import java.io.IOException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The fault-injection matrix: every migration phase (rows) against every fault (columns), each
 * cell a real live migration of one shared test guest between two agent processes, followed by
 * the design's invariants. Plain {@code mvn verify} (and the {@code fault-matrix} profile, which runs
 * only this suite) runs every cell and writes {@code docs/fault-matrix.md}. For a quick look,
 * {@code -Dferry.faultMatrix=subset} runs one cell per row and column, and
 * {@code -Dferry.faultCells=row/fault,...} runs the cells named, in that order; those write
 * target/fault-matrix-subset.md.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class FaultMatrixIT {
    private static final Path BASE = Path.of(System.getProperty("basedir", ".")).toAbsolutePath().normalize();
    /** Every cell unless a subset is asked for ({@code -Dferry.faultMatrix=subset} or {@code -Dferry.faultCells=...}). */
    private static final boolean FULL = !"subset".equals(System.getProperty("ferry.faultMatrix"))
            && System.getProperty("ferry.faultCells") == null;


    /** One cell per row and per column, chosen to cover the main recovery paths. */
    private static final Set<String> SUBSET = System.getProperty("ferry.faultCells") != null
            ? Set.of(System.getProperty("ferry.faultCells").split(",")) : Set.of(
            "check/tool-exit-1", "in-prepare/dest-agent-kill", "prepare/dest-qemu-kill", "pre-suspend/tool-hang", "pre-suspend/source-agent-kill",
            "ram-copy/cancel", "post-suspend/tool-signal", "sync/tool-flood", "switchover/link-cut",
            "cleanup/dest-agent-kill", "post-suspend/tool-json-flood", "pre-suspend/tool-child-escape");

    /** Each agent's data directory is a tmpfs of this size, so the full-disk column can fill the destination's. */
    private static final int DATA_DIR_MIB = 256;

    private final List<CellResult> results = new ArrayList<>();
    private final Map<String, SmallDisk> disks = new LinkedHashMap<>();
    /** Why the data directories could not be small file systems of their own, or null when they are. */
    private String noSmallDisk;
    private Lab lab;
    private MatrixGuest guest;
    private long started;
    private String diskVerdict = "not verified (the suite stopped before the end)";

    @BeforeAll
    void startTheLab(@TempDir Path root) throws Exception {
        started = System.nanoTime();
        for (String host : List.of(Lab.A, Lab.B)) {
            String[] whyNot = new String[1];
            Optional<SmallDisk> disk = SmallDisk.mount(root.resolve(host), DATA_DIR_MIB, whyNot);
            if (disk.isEmpty()) {
                noSmallDisk = whyNot[0];
                break;
            }
            disks.put(host, disk.get());
        }
        String t = FaultRun.STEP_TIMEOUT.toSeconds() + "s";
        // Plain: the matrix's link holds read the peer requests' paths, which TLS hides.
        lab = Lab.in(root).plain().separateJvms().linkProxies().holdingQemu().logsIn(BASE.resolve("target").resolve("fault-matrix-logs"))
                .fakeTool(MatrixGuest.TOOL_KIND, Map.of("check", t, "pre-suspend", t, "post-suspend", t, "sync", t,
                        "recover", "10s"))
                .start();
        guest = MatrixGuest.boot(lab);
    }

    @TestFactory
    Stream<DynamicTest> matrix() {
        List<DynamicTest> tests = new ArrayList<>();
        // Row by row: every cell follows cells of every column, so what one fault leaves behind meets the next.
        List<Map.Entry<Row, Fault>> cells = new ArrayList<>();
        for (Row row : Row.values()) {
            for (Fault fault : Fault.values()) {
                cells.add(Map.entry(row, fault));
            }
        }
        if (System.getProperty("ferry.faultCells") != null) {
            // Cells named on the command line run in the order named, so a sequence that breaks can be replayed.
            List<String> named = List.of(System.getProperty("ferry.faultCells").split(","));
            cells.sort(Comparator.comparingInt(rf -> {
                int i = named.indexOf(rf.getKey().label + "/" + rf.getValue().label);
                return i < 0 ? Integer.MAX_VALUE : i;
            }));
        }
        for (Map.Entry<Row, Fault> rf : cells) {
            Row row = rf.getKey();
            Fault fault = rf.getValue();
            Optional<String> na = FaultRun.notApplicable(row, fault);
            if (na.isEmpty() && fault == Fault.FULL_DISK && noSmallDisk != null) {
                na = Optional.of("not run on this machine: " + noSmallDisk);
            }
            if (na.isPresent()) {
                results.add(CellResult.notApplicable(row, fault, na.get()));
            } else if (!FULL && !SUBSET.contains(row.label + "/" + fault.label)) {
                results.add(CellResult.notRun(row, fault));
            } else {
                tests.add(DynamicTest.dynamicTest(row.label + " x " + fault.label, () -> cell(row, fault)));
            }
        }
        tests.add(DynamicTest.dynamicTest("no acknowledged disk record is lost", this::diskKeepsEveryRecord));
        return tests.stream();
    }

    private void cell(Row row, Fault fault) throws Exception {
        CellResult r = new FaultRun(lab, guest, disks).run(row, fault);
        results.add(r);
        System.out.printf("fault matrix: %-13s x %-17s %6d ms  %s  (data dirs in use: %s)%n", row.label, fault.label,
                r.millis(), r.cell(), inUse());
        if (r.status() == CellResult.Status.FAIL) {
            fail(row.label + " x " + fault.label + ": " + r.detail());
        }
    }

    /** How much of each small data directory is taken, to show what a run leaves behind as it goes. */
    private String inUse() throws IOException {
        List<String> out = new ArrayList<>();
        for (Map.Entry<String, SmallDisk> d : disks.entrySet()) {
            FileStore fs = Files.getFileStore(d.getValue().dir());
            out.add(d.getKey() + " " + (fs.getTotalSpace() - fs.getUsableSpace()) / 1024 + " KiB");
        }
        return String.join(", ", out);
    }

    private void diskKeepsEveryRecord() throws Exception {
        lab.api(guest.owner()).post("/v1/vms/" + MatrixGuest.VM + "/destroy", null);
        guest.harvestWrites();
        DiskReport disk = DiskVerifier.verify(guest.disk(), new ProcessRunner());
        boolean ok = disk.clean() && disk.highestContiguous() >= guest.highestWrote();
        diskVerdict = (ok ? "pass" : "FAIL") + " (highest acknowledged record " + guest.highestWrote() + ", on the disk " + disk + ")";
        assertThat(disk.clean()).as("no gap or corrupt record: %s", disk).isTrue();
        assertThat(disk.highestContiguous()).as("every acknowledged record is on the disk").isGreaterThanOrEqualTo(guest.highestWrote());
    }

    @AfterAll
    void writeTheTable() throws Exception {
        try {
            MatrixReport report = new MatrixReport(results, FULL, Duration.ofNanos(System.nanoTime() - started), diskVerdict,
                    SUBSET);
            Path out = FULL ? BASE.resolve("docs").resolve("fault-matrix.md")
                    : BASE.resolve("target").resolve("fault-matrix-subset.md");
            report.write(out);
            System.out.println(report.markdown());
            System.out.println("fault matrix written to " + out);
        } finally {
            try {
                if (lab != null) {
                    lab.close();
                }
            } finally {
                for (SmallDisk disk : disks.values()) {
                    disk.close();
                }
            }
        }
    }
}
