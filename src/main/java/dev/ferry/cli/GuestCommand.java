package dev.ferry.cli;

import dev.ferry.guest.DiskReport;
import dev.ferry.guest.DiskVerifier;
import dev.ferry.guest.GuestArtifacts;
import dev.ferry.guest.GuestBuildException;
import dev.ferry.guest.GuestKit;
import dev.ferry.proc.ProcessRunner;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code ferry guest}: builds the test guest and checks the records it wrote to a disk. */
@Command(name = "guest",
        description = "Build the small Linux test guest and check the records it writes to its disk.",
        mixinStandardHelpOptions = true,
        subcommands = {GuestCommand.Build.class, GuestCommand.VerifyDisk.class})
public final class GuestCommand {

    @Command(name = "build",
            description = "Build the test guest (kernel and initramfs) into the user cache, or reuse the cached one, "
                    + "and print where it is.",
            mixinStandardHelpOptions = true)
    static final class Build implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            PrintWriter out = spec.commandLine().getOut();
            try {
                GuestArtifacts guest = GuestKit.inUserCache(new ProcessRunner()).build();
                out.println("kernel     " + guest.kernel());
                out.println("initramfs  " + guest.initramfs());
                out.println("version    " + guest.kernelVersion());
                out.println("cmdline    " + guest.kernelCmdline());
                out.flush();
                return 0;
            } catch (GuestBuildException e) {
                spec.commandLine().getErr().println("ferry guest build: " + e.getMessage());
                return 1;
            }
        }
    }

    @Command(name = "verify-disk",
            description = "Check the records the test guest wrote to a raw or qcow2 disk image. "
                    + "Exits 1 when a record is missing below the highest one or is corrupt.",
            mixinStandardHelpOptions = true)
    static final class VerifyDisk implements Callable<Integer> {
        private static final int LISTED = 20;

        @Spec
        CommandSpec spec;

        @Parameters(index = "0", paramLabel = "IMAGE", description = "the disk image (raw or qcow2); the VM must not be running")
        Path image;

        @Override
        public Integer call() {
            PrintWriter out = spec.commandLine().getOut();
            PrintWriter err = spec.commandLine().getErr();
            DiskReport report;
            try {
                report = DiskVerifier.verify(image, new ProcessRunner());
            } catch (IOException e) {
                err.println("ferry guest verify-disk: " + e.getMessage());
                return 2;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                err.println("ferry guest verify-disk: interrupted");
                return 2;
            }
            out.println("highest contiguous record  " + report.highestContiguous());
            out.println("records found              " + report.recordsFound());
            if (!report.gaps().isEmpty()) {
                out.println("missing records            " + summary(report.gaps()));
            }
            if (!report.corrupt().isEmpty()) {
                out.println("corrupt records            " + summary(report.corrupt()));
            }
            out.println(report.clean() ? "clean" : "NOT clean");
            out.flush();
            return report.clean() ? 0 : 1;
        }

        private static String summary(List<Long> seqs) {
            String shown = seqs.stream().limit(LISTED).map(String::valueOf).collect(Collectors.joining(" "));
            return seqs.size() > LISTED ? shown + " ... (" + seqs.size() + " in all)" : shown;
        }
    }
}
