#!/usr/bin/env bash
# The quickstart: set up, start a local cluster (kubesim) and the veloro server, back up a sample app,
# delete it, restore it, and show it is back. Everything lives under .quickstart/ and is stopped at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
. .venv/bin/activate

QS="$PWD/.quickstart"
rm -rf "$QS"; mkdir -p "$QS/store" "$QS/plugins"
export KUBECONFIG="$QS/kubeconfig"
NS=veloro
pids=()
# Stop in reverse order (the server before the cluster it talks to).
cleanup() {
  for ((i=${#pids[@]}-1; i>=0; i--)); do kill "${pids[i]}" 2>/dev/null || true; wait "${pids[i]}" 2>/dev/null || true; done
}
trap cleanup EXIT
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
t0=$(date +%s)

step "starting kubesim (a local Kubernetes API simulator) with its data in $QS/kubesim"
kubesim serve --data-dir "$QS/kubesim" --kubeconfig-out "$KUBECONFIG" > "$QS/kubesim.out" 2> "$QS/kubesim.log" &
pids+=($!)
for _ in $(seq 100); do kubectl get --raw /version >/dev/null 2>&1 && break; sleep 0.1; done
kubectl get --raw /version >/dev/null || { echo "kubesim did not start; see $QS/kubesim.log"; exit 1; }

step "installing veloro into the cluster (CRDs, RBAC, a filesystem backup location at $QS/store)"
veloro install --provider filesystem --bucket backups --backup-location-config "root=$QS/store" \
  --no-secret --namespace "$NS"

step "running the veloro server as a local process (log: $QS/server.log)"
veloro server --namespace "$NS" --plugin-dir "$QS/plugins" --no-entry-point-plugins \
  --metrics-address 127.0.0.1:0 --download-address 127.0.0.1:0 \
  > "$QS/server.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do
  [ "$(kubectl get bsl default -n "$NS" -o jsonpath='{.status.phase}' 2>/dev/null)" = Available ] && break
  sleep 0.2
done

step "deploying the sample app (namespace demo: deployment, service, configmap, secret, PVC, a custom resource)"
kubectl apply -f examples/quickstart/crd.yaml
kubectl wait --for=condition=Established crd/widgets.example.com --timeout=30s
kubectl apply -f examples/quickstart/app.yaml
kubectl wait --for=jsonpath='{.status.phase}'=Bound pvc/web-data -n demo --timeout=30s
# kubesim keeps each volume's data in a directory: put the site's content on the volume.
pv=$(kubectl get pvc web-data -n demo -o jsonpath='{.spec.volumeName}')
echo "<h1>data restored by veloro</h1>" > "$QS/kubesim/volumes/$pv/index.html"
echo "wrote index.html on volume $pv"
kubectl get deploy,svc,cm,secret,pvc,widgets -n demo

step "backing it up"
veloro backup create demo-backup --include-namespaces demo --wait
veloro backup describe demo-backup --details

step "disaster: deleting namespace demo"
kubectl delete namespace demo --wait=true --timeout=60s
kubectl get namespace demo 2>&1 || true

step "restoring it"
veloro restore create demo-restore --from-backup demo-backup --wait
veloro restore describe demo-restore

step "it is back"
kubectl get deploy,svc,cm,secret,pvc,widgets -n demo
kubectl get configmap web-config -n demo -o jsonpath='{.data.greeting}{"\n"}'
kubectl get widget blue-widget -n demo -o jsonpath='{.spec.color} widget of size {.spec.size}{"\n"}'
kubectl wait --for=jsonpath='{.status.phase}'=Bound pvc/web-data -n demo --timeout=30s
new_pv=$(kubectl get pvc web-data -n demo -o jsonpath='{.spec.volumeName}')
echo "volume $new_pv (restored from a CSI snapshot) holds: $(cat "$QS/kubesim/volumes/$new_pv/index.html")"

step "summary"
backed=$(kubectl get backup demo-backup -n "$NS" -o jsonpath='{.status.progress.itemsBackedUp}')
restored=$(kubectl get restore demo-restore -n "$NS" -o jsonpath='{.status.progress.itemsRestored}')
echo "backup demo-backup:   $(kubectl get backup demo-backup -n "$NS" -o jsonpath='{.status.phase}'), $backed items"
echo "restore demo-restore: $(kubectl get restore demo-restore -n "$NS" -o jsonpath='{.status.phase}'), $restored items"
echo "backup files:         $(find "$QS/store" -type f | wc -l) files under $QS/store"
echo "volume data:          $(cat "$QS/kubesim/volumes/$new_pv/index.html")"
echo "took $(( $(date +%s) - t0 )) s (after setup). Logs: $QS/server.log, $QS/kubesim.log"
