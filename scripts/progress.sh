# Shared progress messages for the set-up scripts (sourced, not run).
# step MSG            one line saying what starts now
# long_step MSG TIME  the same for a step that takes a while: how long it usually takes
# done_step           how long the last long step took

step() {
  echo "==> $*"
}

long_step() {
  _long_start=$SECONDS
  echo "==> $1 (usually $2; it happens once) ..."
}

done_step() {
  echo "    done in $((SECONDS - ${_long_start:-$SECONDS})) s."
}
