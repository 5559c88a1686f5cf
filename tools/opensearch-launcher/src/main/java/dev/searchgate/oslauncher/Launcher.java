package dev.searchgate.oslauncher;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.config.Configurator;
import org.opensearch.analysis.common.CommonAnalysisPlugin;
import org.opensearch.common.logging.LogConfigurator;
import org.opensearch.common.settings.Settings;
import org.opensearch.env.Environment;
import org.opensearch.index.mapper.MapperExtrasPlugin;
import org.opensearch.index.reindex.ReindexPlugin;
import org.opensearch.node.InternalSettingsPreparer;
import org.opensearch.painless.PainlessPlugin;
import org.opensearch.plugins.Plugin;
import org.opensearch.transport.Netty4Plugin;

/**
 * Runs one OpenSearch node in this JVM until SIGTERM/SIGINT.
 *
 * <pre>
 * java -cp 'classes:lib/*' dev.searchgate.oslauncher.Launcher \
 *     [--pidfile FILE] -Epath.home=DIR -Ehttp.port=9250 -Ekey=value ...
 * </pre>
 *
 * Every {@code -Ekey=value} becomes a node setting, as with the {@code opensearch} CLI.
 * {@code path.home} is required; {@code HOME/config} is the config directory, and a
 * log4j2.properties (console output) is put there unless one exists.
 * Unlike the CLI, this does not run the bootstrap checks (so it also runs as root).
 */
public final class Launcher {

    static final List<Class<? extends Plugin>> PLUGINS = List.of(
        Netty4Plugin.class,
        CommonAnalysisPlugin.class,
        PainlessPlugin.class,
        MapperExtrasPlugin.class,
        ReindexPlugin.class
    );

    private Launcher() {}

    public static void main(String[] args) {
        final long t0 = System.nanoTime();
        final Settings.Builder builder = Settings.builder();
        Path pidFile = null;
        for (int i = 0; i < args.length; i++) {
            final String arg = args[i];
            if (arg.equals("--pidfile") && i + 1 < args.length) {
                pidFile = Paths.get(args[++i]);
            } else if (arg.startsWith("-E") && arg.indexOf('=') > 2) {
                final int eq = arg.indexOf('=');
                builder.put(arg.substring(2, eq), arg.substring(eq + 1));
            } else {
                System.err.println("usage: Launcher [--pidfile FILE] -Epath.home=DIR [-Ekey=value ...]");
                System.err.println("unexpected argument: " + arg);
                System.exit(64);
            }
        }
        final Settings input = builder.build();
        if (input.get("path.home") == null) {
            System.err.println("-Epath.home=DIR is required");
            System.exit(64);
        }
        final String nodeName = input.get("node.name", "node-1");

        final EmbeddedNode node;
        final Logger logger;
        try {
            if (pidFile != null) {
                writeAtomically(pidFile, ProcessHandle.current().pid() + "\n");
            }
            final Path configDir = Paths.get(input.get("path.home")).resolve("config").toAbsolutePath();
            Files.createDirectories(configDir);
            final Path log4jConfig = configDir.resolve("log4j2.properties");
            if (Files.exists(log4jConfig) == false) {
                try (InputStream in = Launcher.class.getResourceAsStream("/searchgate-log4j2.properties")) {
                    Files.copy(in, log4jConfig);
                }
            }
            LogConfigurator.registerErrorListener();
            final Environment environment =
                InternalSettingsPreparer.prepareEnvironment(input, Map.of(), configDir, () -> nodeName);
            LogConfigurator.setNodeName(nodeName);
            LogConfigurator.configure(environment);
            logger = LogManager.getLogger(Launcher.class);
            node = new EmbeddedNode(environment, new ArrayList<>(PLUGINS));
        } catch (Throwable t) {
            System.err.println("searchgate-launcher: node [" + nodeName + "] failed to initialize");
            t.printStackTrace();
            deleteQuietly(pidFile);
            System.exit(1);
            return;
        }

        final CountDownLatch closed = new CountDownLatch(1);
        final Path pid = pidFile;
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            logger.info("searchgate-launcher: stopping node [{}]", nodeName);
            try {
                node.close();
                if (node.awaitClose(30, TimeUnit.SECONDS) == false) {
                    logger.warn("searchgate-launcher: node [{}] did not close within 30s", nodeName);
                }
            } catch (IOException | RuntimeException e) {
                logger.warn("searchgate-launcher: failed to close node", e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                deleteQuietly(pid);
                closed.countDown();
                logger.info("searchgate-launcher: node [{}] stopped", nodeName);
                Configurator.shutdown((LoggerContext) LogManager.getContext(false));
            }
        }, "searchgate-launcher-shutdown"));

        try {
            node.start();
        } catch (Throwable t) {
            logger.error("searchgate-launcher: node [" + nodeName + "] failed to start", t);
            System.err.println("searchgate-launcher: node [" + nodeName + "] failed to start: " + t);
            System.exit(1);
            return;
        }
        logger.info("searchgate-launcher: node [{}] started in {} ms (pid {}, plugins {})",
            nodeName, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0),
            ProcessHandle.current().pid(), PLUGINS.stream().map(Class::getSimpleName).toList());

        // The node's threads are daemons (as under the real CLI): keep the JVM alive until closed.
        while (true) {
            try {
                closed.await();
                return;
            } catch (InterruptedException e) {
                // keep waiting
            }
        }
    }

    private static void writeAtomically(Path file, String content) throws IOException {
        final Path parent = file.toAbsolutePath().getParent();
        Files.createDirectories(parent);
        final Path tmp = Files.createTempFile(parent, ".pid", ".tmp");
        Files.write(tmp, content.getBytes(StandardCharsets.UTF_8));
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    private static void deleteQuietly(Path file) {
        if (file == null) {
            return;
        }
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            // ignore
        }
    }
}
