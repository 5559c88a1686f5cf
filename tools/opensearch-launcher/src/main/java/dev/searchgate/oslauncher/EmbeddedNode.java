package dev.searchgate.oslauncher;

import java.util.Collection;

import org.opensearch.cluster.service.ClusterService;
import org.opensearch.env.Environment;
import org.opensearch.node.Node;
import org.opensearch.plugins.Plugin;

/**
 * An OpenSearch node whose modules come from the classpath (Maven artifacts) instead of
 * a distribution's {@code modules/} directory.
 */
final class EmbeddedNode extends Node {

    EmbeddedNode(Environment environment, Collection<Class<? extends Plugin>> classpathPlugins) {
        super(environment, classpathPlugins, true);
    }

    /**
     * The stock listener feeds node and cluster ids into log4j pattern converters that can be
     * set once per JVM. Our log pattern does not use them, so skip it.
     */
    @Override
    protected void configureNodeAndClusterIdStateListener(ClusterService clusterService) {
        // no-op
    }
}
