# Sourced by scripts/test and scripts/dev: the Apache Kafka broker's artefacts from Maven
# Central (deploy/kafka-broker/pom.xml) into .kafka/libs, when that folder is empty and Java
# and Maven are here. A second run reuses the folder; nothing downloads at run time.
KAFKA_LIBS="${IRIS_KAFKA_LIBS:-$ROOT/.kafka/libs}"
if ! ls "$KAFKA_LIBS"/kafka_2.13-*.jar >/dev/null 2>&1; then
  if command -v java >/dev/null 2>&1 && command -v mvn >/dev/null 2>&1; then
    echo "fetching the Apache Kafka broker from Maven Central into $KAFKA_LIBS" >&2
    mkdir -p "$KAFKA_LIBS"
    mvn -q -B -f "$ROOT/deploy/kafka-broker/pom.xml" package -Dkafka.libs="$KAFKA_LIBS" >&2 \
      || { echo "fetching Apache Kafka failed; the embedded broker stands in" >&2; rm -rf "$KAFKA_LIBS"; }
  else
    echo "Java and Maven are missing: the embedded broker stands in for Apache Kafka" >&2
  fi
fi
export IRIS_KAFKA_LIBS="$KAFKA_LIBS"
