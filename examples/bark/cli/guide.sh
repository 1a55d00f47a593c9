#!/usr/bin/env bash
# The DynamoDB Streams guide, step by step, against a running dynastream: a table with a stream, the
# publishNewBark function, an event source mapping, and a put-item that triggers the function.
#
# Usage: examples/bark/cli/guide.sh            (uses `awslocal`, which targets http://localhost:4566)
#        AWSLOCAL="aws --endpoint-url http://localhost:4566" examples/bark/cli/guide.sh
#
# Each step prints the command's answer. The script stops at the first error.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
read -r -a awslocal <<< "${AWSLOCAL:-awslocal}"
export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-test}" AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-test}"
export AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-us-east-1}" AWS_PAGER=""

step() { printf '\n=== %s\n' "$*"; }

step "create the BarkTable with a stream of new and old images"
"${awslocal[@]}" dynamodb create-table \
    --table-name BarkTable \
    --attribute-definitions AttributeName=Username,AttributeType=S AttributeName=Timestamp,AttributeType=S \
    --key-schema AttributeName=Username,KeyType=HASH  AttributeName=Timestamp,KeyType=RANGE \
    --provisioned-throughput ReadCapacityUnits=5,WriteCapacityUnits=5 \
    --stream-specification StreamEnabled=true,StreamViewType=NEW_AND_OLD_IMAGES

step "package the handler and create the publishNewBark function"
cp "$here/index.js" "$here/payload.json" "$work/"
cd "$work"
zip index.zip index.js
"${awslocal[@]}" lambda create-function \
    --function-name publishNewBark \
    --zip-file fileb://index.zip \
    --role roleARN \
    --handler index.handler \
    --timeout 50 \
    --runtime nodejs16.x \
    --role arn:aws:iam::000000000000:role/lambda-role

step "invoke it with a sample stream event"
"${awslocal[@]}" lambda invoke \
    --function-name publishNewBark \
    --payload file://payload.json \
    --cli-binary-format raw-in-base64-out output.txt
echo "output.txt: $(cat output.txt)"

step "find the stream's ARN"
"${awslocal[@]}" dynamodb describe-table --table-name BarkTable
stream_arn="$("${awslocal[@]}" dynamodb describe-table --table-name BarkTable \
    --query Table.LatestStreamArn --output text)"

step "map the stream to the function"
"${awslocal[@]}" lambda create-event-source-mapping \
    --function-name publishNewBark \
    --event-source "$stream_arn" \
    --batch-size 1 \
    --starting-position TRIM_HORIZON
uuid="$("${awslocal[@]}" lambda list-event-source-mappings --function-name publishNewBark \
    --query 'EventSourceMappings[0].UUID' --output text)"

step "add a bark: the put-item triggers publishNewBark"
"${awslocal[@]}" dynamodb put-item \
    --table-name BarkTable \
    --item Username={S="Jane Doe"},Timestamp={S="2016-11-18:14:32:17"},Message={S="Testing...1...2...3"}

step "wait for the mapping to report the batch"
for _ in $(seq 1 100); do
    result="$("${awslocal[@]}" lambda get-event-source-mapping --uuid "$uuid" \
        --query LastProcessingResult --output text)"
    [ "$result" = OK ] && break
    sleep 0.1
done
"${awslocal[@]}" lambda get-event-source-mapping --uuid "$uuid"

step "inspect the stream"
"${awslocal[@]}" dynamodbstreams list-streams
"${awslocal[@]}" dynamodbstreams describe-stream --stream-arn "$stream_arn"
