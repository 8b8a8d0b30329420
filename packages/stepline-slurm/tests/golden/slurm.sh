#!/bin/bash
#SBATCH --job-name=sl-fan.3.train
#SBATCH --output=/shared/jobs/run-1/x.out
#SBATCH --partition='gpu queue'
#SBATCH --account=proj-42
#SBATCH --time=01:30:00
#SBATCH --nodes=2
#SBATCH --cpus-per-task=4
#SBATCH --mem=8G
#SBATCH --qos=high
# rendered by stepline; runs one step with `stepline execute-single-node`
module load python/3.11
module load cuda/12.1
source /opt/site/env.sh
export OMP_NUM_THREADS=4
export NOTE='it'"'"'s $HOME; `x`'
export STEPLINE_RUN_ID=run-1
cd '/shared/my project'
exec /opt/venv/bin/stepline execute-single-node run-1 fan.3.train -f 'my pipeline.yaml' -c config.yaml
