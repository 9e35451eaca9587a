package dev.ferry.fault;

import dev.ferry.lab.FakeTool;

/** The matrix's columns. Tool faults are the {@link FakeTool}'s behaviours at the row's step. */
enum Fault {
    TOOL_EXIT_1("tool-exit-1", "exit-1", "the tool exits 1 with a JSON error line"),
    TOOL_HANG("tool-hang", "hang", "the tool sleeps past its " + FaultRun.STEP_TIMEOUT.toSeconds()
            + " s step timeout; the agent kills its process group"),
    TOOL_SIGNAL("tool-signal", "signal", "the tool SIGKILLs itself"),
    TOOL_FLOOD("tool-flood", "flood", "the tool writes " + FakeTool.FLOOD_BYTES / (1024 * 1024)
            + " MiB of text lines to stdout, then exits 1 (a failure, so the cell also checks the report stays small)"),
    TOOL_JSON_FLOOD("tool-json-flood", "json-flood:2", "the tool writes 2 MiB of JSON message lines (about 30,000)"
            + " and as much of progress lines, half as much plain text on stdout and on stderr, then a last message, and"
            + " exits 0 (small enough for the " + FaultRun.STEP_TIMEOUT.toSeconds() + " s step timeout; ToolOutputIT"
            + " floods 40 MiB): the migration must complete with a report under 64 KiB that says how many were dropped"),
    TOOL_CHILD_ESCAPE("tool-child-escape", "escape", "the tool leaves three sleeping children (one in its process"
            + " group, one that called setsid, one double-forked) and exits 0: the migration must complete and all"
            + " three must be dead when it ended"),
    SOURCE_AGENT_KILL("source-agent-kill", null, "SIGKILL to the source agent's JVM (its QEMU, swtpm and tool live on),"
            + " then the agent is restarted on the same data directory and port"),
    DEST_AGENT_KILL("dest-agent-kill", null, "the same for the destination agent"),
    DEST_QEMU_KILL("dest-qemu-kill", null, "SIGKILL to the destination's incoming QEMU"),
    LINK_CUT("link-cut", null, "the proxy between the source agent and the destination agent's API drops every"
            + " connection and turns new ones away until the source has been turned away at least once (or the"
            + " migration ended without calling the destination), then lets connections through again; QEMU's"
            + " migration stream goes direct and is not cut"),
    CANCEL("cancel", null, "POST /v1/migrations/{id}/cancel to the source; before switchover it must answer 200 and"
            + " roll back, from switchover on 409 and complete"),
    STALL("stall", null, "SIGSTOP, kept until the migration ended, to what the phase needs next: the destination"
            + " agent at check, in-prepare and cleanup, the destination's incoming QEMU from prepare to sync; the"
            + " migration runs with a " + FaultRun.STALL_TIMEOUT.toSeconds() + " s stall timeout and must end"
            + " (completed only in cleanup) with a report naming the stopped agent or the QEMU's pid; then the"
            + " process is continued and the destination must be left with nothing of the migration"),
    FULL_DISK("full-disk", null, "a filler file takes every free byte of the destination's data directory (a small"
            + " tmpfs of its own, holding its state database, run directories and images); the room comes back once"
            + " the migration ended, before the invariants are checked. A migration that completes on the full disk"
            + " once left its vTPM's state in swtpm's memory only, and the next migration of the guest failed on both"
            + " hosts; the destination now refuses a VM whose vTPM state did not reach its disk");

    final String label;
    /** The tool's behaviour for a tool fault, else null. */
    final String toolBehaviour;
    final String legend;

    Fault(String label, String toolBehaviour, String legend) {
        this.label = label;
        this.toolBehaviour = toolBehaviour;
        this.legend = legend;
    }

    boolean isToolFault() {
        return toolBehaviour != null;
    }

    /** A tool fault after which the tool still exits 0: the step succeeds and the migration completes. */
    boolean toolSucceeds() {
        return this == TOOL_JSON_FLOOD || this == TOOL_CHILD_ESCAPE;
    }
}
