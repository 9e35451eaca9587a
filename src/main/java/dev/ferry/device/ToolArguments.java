package dev.ferry.device;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Builds a tool's command line in either dialect. Values are passed as separate argv entries,
 * never through a shell, so names with spaces or shell characters reach the tool verbatim.
 */
public final class ToolArguments {
    /** The environment variable that tells a xen-dialect tool the destination path it fills. */
    public static final String DESTINATION_PATH_ENV = "FERRY_DESTINATION_PATH";

    /**
     * What an argument may hold to pass unchanged through xend's dispatcher, which runs
     * {@code eval} on its arguments: no whitespace, quotes, {@code $}, backquotes, globs,
     * redirections, separators or braces.
     */
    private static final Pattern DISPATCHER_SAFE = Pattern.compile("[A-Za-z0-9._,:/@+=%-]*");
    private static final String SAFE_CHARACTERS = "letters, digits and . _ , : / @ + = % -";

    private ToolArguments() {}

    /**
     * Why a xen-dialect tool must not be called with this device's arguments, or null when it may
     * (and always for the ferry dialect). Ferry passes every argument verbatim, but the classic
     * dispatcher ({@code external-device-migrate}) evaluates them: a value with whitespace would
     * arrive as several arguments and {@code $( )} in it would run.
     */
    public static String dispatcherHazard(ToolSpec tool, DeviceContext ctx) {
        if (tool.dialect() != ToolDialect.XEN) {
            return null;
        }
        String destination = ctx.mode() == Mode.SAVE ? "the save path" : "the destination host name";
        Map<String, String> values = new java.util.LinkedHashMap<>();
        values.put(destination, ctx.destination());
        values.put("the VM name", ctx.vmName());
        values.put("the device class", xenClass(ctx.device()));
        for (Map.Entry<String, String> e : values.entrySet()) {
            String bad = firstUnsafe(e.getValue());
            if (bad != null) {
                return e.getKey() + " '" + e.getValue() + "' contains " + bad + ", and tool " + tool.executable()
                        + " speaks the xen dialect: xend's dispatcher (external-device-migrate) passes its arguments"
                        + " through eval, which would split the value into several arguments or run shell code in it;"
                        + " use only " + SAFE_CHARACTERS + " in it, or switch the tool to dialect ferry";
            }
        }
        return null;
    }

    private static String firstUnsafe(String value) {
        if (DISPATCHER_SAFE.matcher(value).matches()) {
            return null;
        }
        int c = value.codePoints().filter(cp -> !DISPATCHER_SAFE.matcher(Character.toString(cp)).matches())
                .findFirst().orElseThrow();
        if (c == ' ') {
            return "a space";
        }
        if (Character.isWhitespace(c)) {
            return String.format("whitespace (U+%04X)", c);
        }
        return Character.isISOControl(c) ? String.format("the control character U+%04X", c)
                : "'" + Character.toString(c) + "'";
    }

    /**
     * The argv for one call.
     *
     * @param step         the step, or null for a recovery
     * @param lastGoodStep with a recovery: the last step the device completed
     */
    public static List<String> argv(ToolSpec tool, DeviceContext ctx, Step step, Step lastGoodStep) {
        return switch (tool.dialect()) {
            case FERRY -> ferry(tool, ctx, step, lastGoodStep);
            case XEN -> xen(tool, ctx, step, lastGoodStep);
        };
    }

    private static List<String> ferry(ToolSpec tool, DeviceContext ctx, Step step, Step lastGoodStep) {
        List<String> argv = new ArrayList<>(List.of(tool.executable().toString(),
                "--step", step == null ? "recover" : step.toolName(),
                "--device-type", ctx.device().type(),
                "--device-id", ctx.device().id(),
                "--vm", ctx.vmName(),
                "--vm-uuid", ctx.vmUuid(),
                "--mode", ctx.mode().wireName(),
                "--destination", ctx.destination()));
        if (step == null) {
            argv.add("--last-good-step");
            argv.add(lastGoodStep.toolName());
        }
        if (ctx.endpoint() != null) {
            argv.add("--destination-path");
            argv.add(ctx.endpoint());
        }
        return argv;
    }

    /**
     * Variables added to the tool's clean environment. xend's command line has no place for the
     * destination path a disk tool fills, so the xen dialect gets it as {@value #DESTINATION_PATH_ENV}.
     */
    public static Map<String, String> env(ToolSpec tool, DeviceContext ctx) {
        return tool.dialect() == ToolDialect.XEN && ctx.endpoint() != null
                ? Map.of(DESTINATION_PATH_ENV, ctx.endpoint()) : Map.of();
    }

    private static List<String> xen(ToolSpec tool, DeviceContext ctx, Step step, Step lastGoodStep) {
        int n = step == null ? lastGoodStep.xenNumber() : step.xenNumber();
        List<String> argv = new ArrayList<>(List.of(tool.executable().toString(),
                "-type", xenClass(ctx.device()),
                "-step", Integer.toString(n),
                "-host", ctx.destination(),
                "-domname", ctx.vmName()));
        if (step == null) {
            argv.add("-recover");
        }
        return argv;
    }

    /** The xend device class of a Ferry device type. */
    static String xenClass(DeviceRef device) {
        return switch (device.type()) {
            case "disk" -> "vbd";
            case "nic" -> "vif";
            case "tpm" -> "vtpm";
            case "usb" -> "usb";
            case "pci" -> "pci";
            default -> device.variant().isEmpty() ? device.type() : device.variant().toLowerCase(Locale.ROOT);
        };
    }
}
