// A run's series as a prometheus-cpp registry: what MetricsPrometheusText writes and
// MetricsPusher pushes.
#ifndef REDUCTO_METRICS_PROMETHEUS_REGISTRY_H_
#define REDUCTO_METRICS_PROMETHEUS_REGISTRY_H_

#include <prometheus/registry.h>

#include <memory>

#include "reducto/metrics.h"

namespace reducto {

std::shared_ptr<prometheus::Registry> RunRegistry(const RunMetrics& metrics,
                                                  const RunLabels& labels);

}  // namespace reducto

#endif  // REDUCTO_METRICS_PROMETHEUS_REGISTRY_H_
