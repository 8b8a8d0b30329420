#!/bin/bash
#PJM -N sl-fan.3.train
#PJM -o /shared/jobs/run-1/x.out
#PJM -j
#PJM -L 'rscgrp=gpu queue'
#PJM -g proj-42
#PJM -L elapse=01:30:00
#PJM -L node=2
#PJM -L vnode-core=4
#PJM -L node-mem=8G
#PJM --mpi "proc=8"
# rendered by stepline; runs one step with `stepline execute-single-node`
module load python/3.11
module load cuda/12.1
source /opt/site/env.sh
export OMP_NUM_THREADS=4
export NOTE='it'"'"'s $HOME; `x`'
export STEPLINE_RUN_ID=run-1
cd '/shared/my project'
exec /opt/venv/bin/stepline execute-single-node run-1 fan.3.train -f 'my pipeline.yaml' -c config.yaml
