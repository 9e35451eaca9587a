package dev.ferry.fault;

/** The matrix's rows: the migration phases a fault lands in, with the tool step that runs in each (if any). */
enum Row {
    CHECK("check", "check"),
    /** Inside the destination's prepare: journaled, incoming QEMU started, not answered yet. */
    IN_PREPARE("in-prepare", null),
    PREPARE("prepare", null),
    PRE_SUSPEND("pre-suspend", "pre-suspend"),
    RAM_COPY("ram-copy", null),
    POST_SUSPEND("post-suspend", "post-suspend"),
    SYNC("sync", "sync"),
    SWITCHOVER("switchover", null),
    CLEANUP("cleanup", null);

    final String label;
    /** The external tool's step in this phase, or null when no tool runs in it. */
    final String toolStep;

    Row(String label, String toolStep) {
        this.label = label;
        this.toolStep = toolStep;
    }

    /** How the suite holds a migration in this phase while it injects a fault that is not the tool's. */
    String howHeld() {
        return switch (this) {
            case CHECK, PRE_SUSPEND, POST_SUSPEND, SYNC -> "the tool waits at its " + toolStep + " step until the suite lets it go";
            case IN_PREPARE -> "the destination agent's QEMU is a wrapper script that runs the real QEMU and, for an"
                    + " incoming start while the suite's hold file exists, then waits until the suite removes that file;"
                    + " the destination is inside prepare with the migration journaled, its incoming QEMU and swtpm"
                    + " running, and the source not answered. The suite waits for the wrapper's marker, injects the"
                    + " fault, removes the hold file and waits for the wrapper to exit with QEMU's status";
            case PREPARE -> "the link proxy holds the destination's answer to prepare (its incoming QEMU runs)";
            case RAM_COPY -> "the link proxy holds the destination's answer to prepare while the suite stops (SIGSTOP)"
                    + " the incoming QEMU; the RAM stream stalls, so the source stays in ram-copy until it is resumed";
            case SWITCHOVER -> "the link proxy holds the source's switchover request before the destination sees it";
            case CLEANUP -> "the link proxy holds the destination's switchover answer (it owns and runs the guest) while"
                    + " the suite stops (SIGSTOP) the source's finished QEMU; the source's quit in cleanup cannot complete,"
                    + " so it stays in cleanup until the QEMU is resumed";
        };
    }
}
