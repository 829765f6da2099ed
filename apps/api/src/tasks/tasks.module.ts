import { Module } from '@nestjs/common';
import { Loaders } from '../graphql/loaders';
import { TasksResolver, WorkerTasksResolver } from './tasks.resolver';
import { TasksService } from './tasks.service';

@Module({ providers: [TasksService, TasksResolver, WorkerTasksResolver, Loaders], exports: [TasksService, Loaders] })
export class TasksModule {}
