package dev.ferry.cli;

import dev.ferry.conformance.CheckOptions;
import dev.ferry.conformance.CheckReport;
import dev.ferry.conformance.ToolCheck;
import dev.ferry.conformance.ToolTemplate;
import dev.ferry.device.Mode;
import dev.ferry.device.ToolDialect;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Clock;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code ferry tool check|template}: the conformance kit for authors of migration tools; needs no agent. */
@Command(name = "tool",
        description = "For authors of migration tools: check a tool against the tool contract, or write a skeleton tool "
                + "that passes the check. Needs no agent.",
        mixinStandardHelpOptions = true,
        subcommands = {ToolCommand.Check.class, ToolCommand.Template.class})
final class ToolCommand extends CommandGroup {

    @Command(name = "check",
            description = {"Drive TOOL through every step and every recovery its dialect produces: whole migrations run "
                    + "through Ferry's own sequence, with the tool's device between two other devices, one migration "
                    + "that completes and others in which a device, the tool's own step or QEMU fails at each step. "
                    + "No VM runs and no agent is needed; the destination only pretends, and the tool runs in a scratch "
                    + "directory (its working directory, HOME and TMPDIR) that is removed at the end.",
                    "Prints every call (argv, exit status, duration, what Ferry would show, processes left running) "
                    + "and every problem: a failed step, malformed JSON output, output over the cap, an error printed "
                    + "with exit 0, a process left running, a step 0 with side effects, a recovery that does not undo "
                    + "the steps or is not idempotent.",
                    "Exits 0 when the tool conforms, 1 when it does not, 2 on wrong usage."},
            mixinStandardHelpOptions = true)
    static final class Check implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(index = "0", paramLabel = "TOOL", description = "the tool's executable")
        Path tool;

        @Option(names = "--dialect", required = true, paramLabel = "ferry|xen", description = "the dialect the tool speaks")
        String dialect;

        @Option(names = "--type", required = true, paramLabel = "CLASS",
                description = "the device class as the dialect names it: disk, nic, tpm, usb, pci, external (ferry); "
                        + "vbd, vif, vtpm, usb, pci (xen); any other word is an external device's kind")
        String deviceClass;

        @Option(names = "--mode", paramLabel = "live|save", defaultValue = "live",
                description = "migrate to a host, or save to a file (default: ${DEFAULT-VALUE})")
        String mode;

        @Option(names = "--destination", paramLabel = "HOST", defaultValue = "localhost",
                description = "the destination host the tool is told about in live mode (default: ${DEFAULT-VALUE})")
        String destination;

        @Option(names = "--scratch", paramLabel = "DIR",
                description = "where to make the scratch directory (default: the system's temporary directory)")
        Path scratch;

        @Override
        public Integer call() {
            CheckOptions options;
            try {
                options = new CheckOptions(tool, ToolDialect.parse(dialect), deviceClass, Mode.fromWireName(mode),
                        destination);
            } catch (IllegalArgumentException e) {
                throw new CliFailure(CliFailure.USAGE, e.getMessage());
            }
            Path parent = scratch != null ? scratch : Path.of(System.getProperty("java.io.tmpdir"));
            try {
                CheckReport report = new ToolCheck(parent, Clock.systemUTC()).run(options);
                report.print(spec.commandLine().getOut());
                return report.conforms() ? 0 : 1;
            } catch (IllegalArgumentException e) {
                throw new CliFailure(CliFailure.USAGE, e.getMessage());
            } catch (IOException e) {
                throw new CliFailure(CliFailure.USAGE, "cannot use the scratch directory under " + parent + ": "
                        + e.getMessage() + "; give a writable one with --scratch");
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new CliFailure(CliFailure.AGENT_ERROR, "interrupted");
            }
        }
    }

    @Command(name = "template",
            description = {"Write a commented skeleton tool (POSIX shell) for one dialect and device class that passes "
                    + "'ferry tool check'; put the device's work where its comments say.",
                    "Without FILE the skeleton goes to stdout; an existing FILE is never replaced."},
            mixinStandardHelpOptions = true)
    static final class Template implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(index = "0", arity = "0..1", paramLabel = "FILE", description = "where to write the tool (made executable)")
        Path file;

        @Option(names = "--dialect", required = true, paramLabel = "ferry|xen", description = "the dialect the tool speaks")
        String dialect;

        @Option(names = "--type", required = true, paramLabel = "CLASS",
                description = "the device class, as for 'ferry tool check'")
        String deviceClass;

        @Override
        public Integer call() {
            ToolDialect parsed;
            try {
                parsed = ToolDialect.parse(dialect);
                // The same rules as the check, so that a skeleton is made only for a class the check accepts.
                new CheckOptions(Path.of("tool"), parsed, deviceClass, Mode.LIVE, "localhost");
            } catch (IllegalArgumentException e) {
                throw new CliFailure(CliFailure.USAGE, e.getMessage());
            }
            PrintWriter out = spec.commandLine().getOut();
            if (file == null) {
                out.print(ToolTemplate.text(parsed, deviceClass));
                out.flush();
                return 0;
            }
            try {
                ToolTemplate.write(file, parsed, deviceClass);
            } catch (IOException e) {
                throw new CliFailure(CliFailure.USAGE, "cannot write " + file + ": " + e.getMessage());
            }
            out.println("wrote " + file + "; check it with: ferry tool check " + file + " --dialect " + parsed.wireName()
                    + " --type " + deviceClass);
            out.flush();
            return 0;
        }
    }
}
