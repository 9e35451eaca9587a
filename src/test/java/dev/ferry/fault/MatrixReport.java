package dev.ferry.fault;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDate;
import java.util.Collection;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/** The matrix as Markdown: date, counts, the table (rows phases, columns faults) and a legend. */
final class MatrixReport {
    private final List<CellResult> cells;
    private final boolean full;
    private final Duration took;
    private final String diskVerdict;
    private final Collection<String> subset;

    /** @param subset the cells plain {@code mvn verify} runs, as {@code row/fault} */
    MatrixReport(List<CellResult> cells, boolean full, Duration took, String diskVerdict, Collection<String> subset) {
        this.cells = cells;
        this.full = full;
        this.took = took;
        this.diskVerdict = diskVerdict;
        this.subset = subset;
    }

    long count(CellResult.Status status) {
        return cells.stream().filter(c -> c.status() == status).count();
    }

    String markdown() {
        long passed = count(CellResult.Status.PASS);
        long failed = count(CellResult.Status.FAIL);
        StringBuilder md = new StringBuilder();
        md.append("# Fault-injection matrix\n\n");
        md.append("Written by `dev.ferry.fault.FaultMatrixIT` on ").append(LocalDate.now()).append(" (")
                .append(full ? "every cell, as plain `mvn verify` and `mvn -B verify -Pfault-matrix -Dtest=NONE"
                        + " -Dsurefire.failIfNoSpecifiedTests=false` run them"
                        : "a subset asked for with -Dferry.faultMatrix=subset or -Dferry.faultCells")
                .append("). Do not edit by hand.\n\n");
        md.append("Cells run: ").append(passed + failed).append(", passed: ").append(passed).append(", failed: ").append(failed)
                .append(", not applicable: ").append(count(CellResult.Status.NOT_APPLICABLE));
        if (!full) {
            md.append(", not run in this subset: ").append(count(CellResult.Status.NOT_RUN));
        }
        md.append(". The matrix took ").append(took.toSeconds()).append(" s on this machine.\n\n");
        if (!full) {
            md.append("Cells in this run: ")
                    .append(subset.stream().sorted().map(c -> "`" + c + "`").collect(Collectors.joining(", ")))
                    .append(".\n\n");
        }
        md.append("After the last cell the guest was stopped and its data disk verified: ").append(diskVerdict).append("\n\n");
        md.append("| phase \\ fault |");
        for (Fault f : Fault.values()) {
            md.append(' ').append(f.label).append(" |");
        }
        md.append("\n|---|");
        md.append("---|".repeat(Fault.values().length)).append('\n');
        Map<Row, Map<Fault, CellResult>> byRow = byRow();
        for (Row r : Row.values()) {
            md.append("| **").append(r.label).append("** |");
            for (Fault f : Fault.values()) {
                CellResult c = byRow.get(r).get(f);
                md.append(' ').append(c == null ? "" : c.cell().replace("|", "\\|").replace("\n", " ")).append(" |");
            }
            md.append('\n');
        }
        md.append("\n## Legend\n\n");
        md.append("A cell passes when, after the fault, the migration ends on the source in a final state and every"
                + " invariant holds; `pass (X)` gives the migration's result X. `FAIL` lists what broke; `[reset]` means"
                + " the suite then killed both agents and everything they started, wiped their data directories and"
                + " booted the guest again on host-a, so the next cell starts clean.\n\n");
        md.append("Invariants checked after every cell:\n\n");
        md.append("- exactly one running copy: exactly one agent lists the VM `running`, and exactly one QEMU for it runs"
                + " across both hosts' data directories, on that host;\n");
        md.append("- the guest ticks there (5 more ticks within 10 s) and prints the PCRs it booted with;\n");
        md.append("- nothing is left on the host without the VM: no VM record, an empty run directory, an empty images"
                + " directory (no copy of a local disk), no QEMU or swtpm naming its data directory, and no TCP port"
                + " (an NBD export, a migration listener) open in any process the agents started;\n");
        md.append("- the migration is final on the source (`GET /v1/migrations/{id}`: not running, result completed,"
                + " rolled-back, failed or refused) and on the destination if it knows it;\n");
        md.append("- the tool faults must not complete and the report must name the device (fpga0) in under 64 KiB;"
                + " a cancel must answer 200 and roll back before switchover, 409 and complete from switchover on;\n");
        md.append("- at the end, no acknowledged disk record is lost: the highest `wrote N` any serial log showed (the"
                + " source keeps its log under `<dataDir>/logs/` when the VM left) is on the disk, without gaps.\n\n");
        md.append("Faults (the columns):\n\n");
        for (Fault f : Fault.values()) {
            md.append("- `").append(f.label).append("`: ").append(f.legend).append(".\n");
        }
        md.append("\nHow the suite lands a fault that is not the tool's in each phase (the rows):\n\n");
        for (Row r : Row.values()) {
            md.append("- `").append(r.label).append("`: ").append(r.howHeld()).append(".\n");
        }
        md.append("\nThe agents run as separate processes (`java -jar target/ferry.jar agent`), so they can be SIGKILLed."
                + " Each reaches its peer's API through a loopback proxy the suite controls; QEMU's migration stream"
                + " goes straight from QEMU to QEMU and is never cut. The guest (256 MiB, shared qcow2 disk, user-mode"
                + " NIC, swtpm vTPM, one external device) bounces between the hosts: each cell migrates it from where"
                + " the previous one left it.\n");
        return md.toString();
    }

    void write(Path file) throws IOException {
        Files.createDirectories(file.getParent());
        Files.writeString(file, markdown());
    }

    private Map<Row, Map<Fault, CellResult>> byRow() {
        Map<Row, Map<Fault, CellResult>> out = new EnumMap<>(Row.class);
        for (Row r : Row.values()) {
            out.put(r, new EnumMap<>(Fault.class));
        }
        cells.forEach(c -> out.get(c.row()).put(c.fault(), c));
        return out;
    }
}
