#!/bin/bash
# Starts one Kafka node configured from the environment, as the apache/kafka
# image does: KAFKA_<NAME>=value becomes <name>=value in server.properties,
# with "_" -> ".", "__" -> "_" and "___" -> "-" (KAFKA_LOG_DIRS -> log.dirs).
# KAFKA_HEAP_OPTS and KAFKA_OPTS are JVM options, not properties. CLUSTER_ID
# formats the storage on first start (kept on later starts).
set -euo pipefail
conf_dir="${KAFKA_CONFIG_DIR:-/tmp/kafka-config}"
mkdir -p "$conf_dir"
props="$conf_dir/server.properties"
: >"$props.tmp"
for name in $(compgen -e | sort); do
  case "$name" in
    KAFKA_HEAP_OPTS | KAFKA_OPTS | KAFKA_JVM_PERFORMANCE_OPTS | KAFKA_CONFIG_DIR) continue ;;
    KAFKA_*) ;;
    *) continue ;;
  esac
  key="${name#KAFKA_}"
  key="${key,,}"
  key="${key//___/-}"
  key="${key//__/@}"
  key="${key//_/.}"
  key="${key//@/_}"
  printf '%s=%s\n' "$key" "${!name}" >>"$props.tmp"
done
mv "$props.tmp" "$props"
: "${CLUSTER_ID:?CLUSTER_ID must be set (kafka-storage random-uuid makes one)}"
cp="/opt/kafka/libs/*"
log4j="-Dlog4j.configuration=file:/opt/kafka/config/log4j.properties"
# shellcheck disable=SC2086
java -Xmx128m $log4j -cp "$cp" kafka.tools.StorageTool format -t "$CLUSTER_ID" -c "$props" --ignore-formatted
# shellcheck disable=SC2086
exec java ${KAFKA_HEAP_OPTS:--Xmx512m} ${KAFKA_JVM_PERFORMANCE_OPTS:--XX:+UseG1GC -XX:MaxGCPauseMillis=20} \
  -Djava.awt.headless=true $log4j ${KAFKA_OPTS:-} -cp "$cp" kafka.Kafka "$props"
