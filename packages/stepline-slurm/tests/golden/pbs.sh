#!/bin/bash
#PBS -N sl-fan.3.train
#PBS -o /shared/jobs/run-1/x.out
#PBS -j oe
#PBS -q 'gpu queue'
#PBS -A proj-42
#PBS -l walltime=01:30:00
#PBS -l select=2:ncpus=4:mem=8G
#PBS -l place=scatter
# rendered by stepline; runs one step with `stepline execute-single-node`
module load python/3.11
module load cuda/12.1
source /opt/site/env.sh
export OMP_NUM_THREADS=4
export NOTE='it'"'"'s $HOME; `x`'
export STEPLINE_RUN_ID=run-1
cd '/shared/my project'
exec /opt/venv/bin/stepline execute-single-node run-1 fan.3.train -f 'my pipeline.yaml' -c config.yaml
